import Decimal from "decimal.js";
import type { components } from "../api/generated/billing";
import { compareMoney, sumMoney, toPlotNumber } from "./money";
import { dateToEpochSeconds } from "./dates";
import type { CsvCell } from "./csv";

export type Spend = components["schemas"]["SpendView"];

/** A group's name as shown: the API groups usage without that value (e.g. no model) under JSON null. */
export const groupName = (key: string | null): string => key ?? "(none)";

export type SpendRow = { key: string; date: string; quantity: string; cost: string };

/** The view as rows, one per group and date (groups biggest first, dates in order): the table, and the CSV. */
export function spendRows(spend: Spend): SpendRow[] {
  return rankedSeries(spend).flatMap((series) =>
    series.points.map((point) => ({
      key: groupName(series.key),
      date: point.date,
      quantity: point.quantity === null || point.quantity === undefined ? "" : new Decimal(point.quantity).toFixed(),
      cost: point.cost,
    })),
  );
}

export function seriesTotal(series: Spend["series"][number]): string {
  return sumMoney(series.points.map((p) => p.cost));
}

/** The series biggest first by cost over the range (ties by name), so "top" lists and the chart agree. */
export function rankedSeries(spend: Spend): Spend["series"] {
  return spend.series
    .map((series) => ({ series, total: seriesTotal(series) }))
    .sort((a, b) => compareMoney(b.total, a.total) || groupName(a.series.key).localeCompare(groupName(b.series.key)))
    .map((ranked) => ranked.series);
}

export const spendCsvHeader = ["group", "date (UTC)", "quantity", "cost"] as const;

export function spendCsvRows(rows: readonly SpendRow[]): CsvCell[][] {
  return rows.map((row) => [row.key, row.date, row.quantity, row.cost]);
}

/** Per date, the sum of every group's cost (exact, with decimal.js): the platform's spend per day. */
export function spendPerDate(spend: Spend): { date: string; cost: string }[] {
  const byDate = new Map<string, string[]>();
  for (const series of spend.series) for (const point of series.points) byDate.set(point.date, [...(byDate.get(point.date) ?? []), point.cost]);
  return [...byDate.keys()].sort().map((date) => ({ date, cost: sumMoney(byDate.get(date)!) }));
}

export type ChartData = { x: number[]; series: { label: string; values: (number | null)[] }[] };

/** Up to `maxSeries` of the biggest groups as chart lines over every date of the view; a date a group lacks is a gap. */
export function spendChart(spend: Spend, maxSeries = 10): ChartData {
  const dates = [...new Set(spend.series.flatMap((s) => s.points.map((p) => p.date)))].sort();
  const shown = rankedSeries(spend).slice(0, maxSeries);
  return {
    x: dates.map(dateToEpochSeconds),
    series: shown.map((series) => {
      const cost = new Map(series.points.map((p) => [p.date, p.cost]));
      return { label: groupName(series.key), values: dates.map((d) => toPlotNumber(cost.get(d))) };
    }),
  };
}
