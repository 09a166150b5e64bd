import { describe, expect, it } from "vitest";
import { diffRateCards } from "../src/lib/rateCardDiff";

const v1 = [
  { meter: "input_tokens", model: "gpt-4o", price: "2.50" },
  { meter: "output_tokens", model: "gpt-4o", price: "10.00" },
  { meter: "gpu_seconds", gpu_type: "a100", price: "3.20" },
  { meter: "input_tokens", model: "llama-3", price: "0.60" },
];
const v2 = [
  { meter: "input_tokens", model: "gpt-4o", price: "2.5" },
  { meter: "output_tokens", model: "gpt-4o", price: "12.00" },
  { meter: "gpu_seconds", gpu_type: "h100", price: "4.10" },
  { meter: "input_tokens", model: "llama-3", price: "0.55" },
];

describe("rate-card diff", () => {
  it("lists added, removed and changed prices; the same amount written differently is unchanged", () => {
    const diff = diffRateCards(v1, v2);
    expect(diff.added).toEqual([{ meter: "gpu_seconds", gpu_type: "h100", price: "4.10" }]);
    expect(diff.removed).toEqual([{ meter: "gpu_seconds", gpu_type: "a100", price: "3.20" }]);
    expect(diff.changed).toEqual([
      { meter: "input_tokens", model: "llama-3", gpu_type: undefined, before: "0.60", after: "0.55" },
      { meter: "output_tokens", model: "gpt-4o", gpu_type: undefined, before: "10.00", after: "12.00" },
    ]);
    expect(diff.unchanged).toBe(1);
  });

  it("tells a model's price from a GPU type's of the same name, and null from absent", () => {
    const diff = diffRateCards([{ meter: "m", model: "x", price: "1" }, { meter: "m", model: null, price: "2" }], [{ meter: "m", gpu_type: "x", price: "1" }, { meter: "m", price: "2" }]);
    expect(diff.added).toEqual([{ meter: "m", gpu_type: "x", price: "1" }]);
    expect(diff.removed).toEqual([{ meter: "m", model: "x", price: "1" }]);
    expect(diff.unchanged).toBe(1);
  });

  it("of a version with itself is empty", () => {
    expect(diffRateCards(v1, v1)).toEqual({ added: [], removed: [], changed: [], unchanged: 4 });
  });
});
