import { describe, expect, it } from "vitest";
import { forecastBand } from "../src/lib/forecastBand";

describe("forecast band", () => {
  const days = [
    { date: "2026-11-01", actual: "10.00" },
    { date: "2026-11-02", actual: "25.50", forecast: "25.50", low: "25.50", high: "25.50" },
    { date: "2026-11-03", forecast: "40.25", low: "35.00", high: "47.10" },
  ];

  it("puts each day at 00:00 UTC and keeps absent values as gaps", () => {
    const band = forecastBand(days);
    expect(band.x).toEqual([Date.UTC(2026, 10, 1) / 1000, Date.UTC(2026, 10, 2) / 1000, Date.UTC(2026, 10, 3) / 1000]);
    expect(band.actual).toEqual([10, 25.5, null]);
    expect(band.forecast).toEqual([null, 25.5, 40.25]);
    expect(band.low).toEqual([null, 25.5, 35]);
    expect(band.high).toEqual([null, 25.5, 47.1]);
    expect(band.limit).toBeNull();
  });

  it("draws the limit as a flat line over every day", () => {
    expect(forecastBand(days, "45.00").limit).toEqual([45, 45, 45]);
  });

  it("has as many points in every series as days", () => {
    const band = forecastBand(days, "1");
    for (const series of [band.actual, band.forecast, band.low, band.high, band.limit!]) expect(series).toHaveLength(days.length);
  });
});
