import { firstDayOf, isDate } from "../lib/dates";
import type { ViewSpec } from "../lib/urlState";

export const groupings = ["tenant", "team", "meter", "model", "gpu_type", "service", "feature"] as const;
export const granularities = ["day", "month"] as const;
export const filters = ["tenant", "team", "meter", "model", "gpu_type"] as const;

const filterText = { default: "" };

/** The spend explorer's state in its URL: by default, month to date per tenant and day. */
export function spendViewSpec(today: string) {
  return {
    group_by: { default: "tenant", allowed: groupings },
    granularity: { default: "day", allowed: granularities },
    from: { default: firstDayOf(today.slice(0, 7)), valid: isDate },
    to: { default: today, valid: isDate },
    tenant: filterText,
    team: filterText,
    meter: filterText,
    model: filterText,
    gpu_type: filterText,
  } satisfies ViewSpec<string>;
}
