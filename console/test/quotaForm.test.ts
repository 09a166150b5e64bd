import { describe, expect, it } from "vitest";
import { inputKey, placeErrors, toDrafts, toRequest } from "../src/lib/quotaForm";

describe("quota editor", () => {
  it("places each field error on the input it names", () => {
    const placed = placeErrors({ "limits[1].soft_pct": ["must be 1 to 100"], "limits[0].limit": ["must be ≥ 0"] }, 2);
    expect(placed.byInput.get(inputKey(1, "soft_pct"))).toEqual(["must be 1 to 100"]);
    expect(placed.byInput.get(inputKey(0, "limit"))).toEqual(["must be ≥ 0"]);
    expect(placed.byInput.has(inputKey(0, "soft_pct"))).toBe(false);
    expect(placed.general).toEqual([]);
  });

  it("keeps errors no input shows above the form: the whole row, the list, a row that is not there, an unknown field", () => {
    const placed = placeErrors(
      { "limits[0]": ["duplicates the tokens month limit"], limits: ["is required"], "limits[5].limit": ["x"], "limits[0].colour": ["y"] },
      2,
    );
    expect(placed.byInput.size).toBe(0);
    expect(placed.general.map(([field]) => field)).toEqual(["limits[0]", "limits", "limits[5].limit", "limits[0].colour"]);
  });

  it("sends the limit as the decimal string typed and soft_pct as a number when whole", () => {
    const drafts = toDrafts([{ meter: "cost_usd", period: "month", limit: "1000.10", soft_pct: 80, enforcement: "throttle" }]);
    expect(drafts).toEqual([{ meter: "cost_usd", period: "month", limit: "1000.10", soft_pct: "80", enforcement: "throttle" }]);
    expect(toRequest([{ ...drafts[0], limit: " 12.345678901234567890 ", soft_pct: "90" }]).limits[0]).toEqual({
      meter: "cost_usd", period: "month", limit: "12.345678901234567890", soft_pct: 90, enforcement: "throttle",
    });
    expect(toRequest([{ ...drafts[0], soft_pct: "eighty" }]).limits[0].soft_pct).toBe("eighty");
  });
});
