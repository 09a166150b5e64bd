import { isPeriod, utcMonth } from "../lib/dates";
import type { ViewSpec } from "../lib/urlState";

/** A page showing one month: `?period=YYYY-MM` in its URL, by default the given month. */
export function periodViewSpec(defaultPeriod: string) {
  return { period: { default: defaultPeriod, valid: isPeriod } } satisfies ViewSpec<string>;
}

export const currentPeriod = (): string => utcMonth(new Date());

/** The month before the current one (UTC): the month a month close is usually about. */
export function previousPeriod(now = new Date()): string {
  return utcMonth(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)));
}
