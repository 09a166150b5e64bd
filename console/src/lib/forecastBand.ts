import { toPlotNumber } from "./money";
import { dateToEpochSeconds } from "./dates";

/** What the chart and its table need of GET /v1/forecast/{period}'s days (cumulative amounts, absent ones left out). */
export type ForecastDay = { date: string; actual?: string | null; forecast?: string | null; low?: string | null; high?: string | null };

export type ForecastBand = {
  x: number[];
  actual: (number | null)[];
  forecast: (number | null)[];
  low: (number | null)[];
  high: (number | null)[];
  /** A month limit drawn as a flat line, when the view has one. */
  limit: (number | null)[] | null;
};

/**
 * The chart's arrays, index by index with the days: the actual spend so far, the forecast from the as-of day on and its
 * 80 % band between low and high (uPlot fills between the high and low series). A day without a value is a gap (null),
 * never a zero.
 */
export function forecastBand(days: readonly ForecastDay[], limit?: string | null): ForecastBand {
  return {
    x: days.map((d) => dateToEpochSeconds(d.date)),
    actual: days.map((d) => toPlotNumber(d.actual)),
    forecast: days.map((d) => toPlotNumber(d.forecast)),
    low: days.map((d) => toPlotNumber(d.low)),
    high: days.map((d) => toPlotNumber(d.high)),
    limit: limit === null || limit === undefined ? null : days.map(() => toPlotNumber(limit)),
  };
}
