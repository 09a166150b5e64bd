import { describe, expect, it } from "vitest";
import { rankedSeries, spendChart, spendPerDate, type Spend } from "../src/lib/spendView";

const spend: Spend = {
  currency: "USD", from: "2026-11-01", to: "2026-11-02", group_by: "model", granularity: "day", total: "0.60",
  series: [
    { key: "small", points: [{ date: "2026-11-01", cost: "0.10" }, { date: "2026-11-02", cost: "0.20" }] },
    { key: "big", points: [{ date: "2026-11-02", cost: "0.30" }] },
  ],
};

describe("spend view", () => {
  it("ranks groups by their exact total", () => {
    expect(rankedSeries(spend).map((s) => s.key)).toEqual(["big", "small"]);
  });

  it("adds the groups per date exactly", () => {
    expect(spendPerDate(spend)).toEqual([{ date: "2026-11-01", cost: "0.10" }, { date: "2026-11-02", cost: "0.50" }]);
  });

  it("charts every date, with a gap where a group has no point", () => {
    const chart = spendChart(spend);
    expect(chart.x).toHaveLength(2);
    expect(chart.series).toEqual([{ label: "big", values: [null, 0.3] }, { label: "small", values: [0.1, 0.2] }]);
  });
});
