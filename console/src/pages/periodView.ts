import { useSearchParams } from "react-router";
import { isPeriod, utcMonth } from "../lib/dates";
import { readView, writeView, type ViewSpec } from "../lib/urlState";

/** A page showing one month: `?period=YYYY-MM` in its URL, by default the given month. */
export function periodViewSpec(defaultPeriod: string) {
  return { period: { default: defaultPeriod, valid: isPeriod } } satisfies ViewSpec<string>;
}

export const currentPeriod = (): string => utcMonth(new Date());

/** The month before the current one (UTC): the month a month close is usually about. */
export function previousPeriod(now = new Date()): string {
  return utcMonth(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)));
}

/** The month of a page that shows one (`?period=`, by default `defaultPeriod`), and a way to show another. */
export function usePeriod(defaultPeriod: string): [period: string, setPeriod: (period: string) => void] {
  const [params, setParams] = useSearchParams();
  const spec = periodViewSpec(defaultPeriod);
  return [readView(spec, params).period, (next) => setParams(writeView(spec, { period: next }))];
}
