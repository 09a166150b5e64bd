import { describe, expect, it } from "vitest";
import { hasUnpriced, lineItem, lineKinds, lineLabel, type InvoiceLine } from "../src/lib/invoiceLines";

const line = (overrides: Partial<InvoiceLine>): InvoiceLine => ({
  meter: "output_tokens",
  model: "llama-4-70b",
  gpu_type: null,
  quantity: "1000000",
  unit_price: "0.60",
  amount: "0.60",
  adjustment_for: null,
  ...overrides,
});

describe("invoice lines", () => {
  it("marks usage of the month, adjustments for a finalized month and unpriced usage", () => {
    expect(lineKinds(line({}))).toEqual(["usage"]);
    expect(lineKinds(line({ adjustment_for: "2026-10" }))).toEqual(["adjustment"]);
    expect(lineKinds(line({ unit_price: null, amount: null }))).toEqual(["unpriced"]);
    expect(lineLabel(line({ adjustment_for: "2026-10", unit_price: null, amount: null }))).toBe("adjustment for 2026-10, unpriced");
  });

  it("names the line by meter and its model or GPU type", () => {
    expect(lineItem(line({}))).toBe("output_tokens · llama-4-70b");
    expect(lineItem(line({ meter: "gpu_seconds", model: null, gpu_type: "h100" }))).toBe("gpu_seconds · h100");
  });

  it("knows when an invoice holds unpriced usage", () => {
    expect(hasUnpriced([line({})])).toBe(false);
    expect(hasUnpriced([line({}), line({ unit_price: null, amount: null })])).toBe(true);
  });
});
