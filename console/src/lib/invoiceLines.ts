import type { components } from "../api/generated/billing";

export type InvoiceLine = components["schemas"]["InvoiceLineView"];

/** How an invoice line is marked: usage of the month, an adjustment for a finalized month, or usage no price covers. */
export type LineKind = "usage" | "adjustment" | "unpriced";

export function lineKinds(line: InvoiceLine): LineKind[] {
  const kinds: LineKind[] = [];
  if (line.adjustment_for) kinds.push("adjustment");
  if (line.unit_price === null || line.amount === null) kinds.push("unpriced");
  return kinds.length > 0 ? kinds : ["usage"];
}

export function lineLabel(line: InvoiceLine): string {
  const kinds = lineKinds(line);
  return kinds
    .map((kind) => (kind === "adjustment" ? `adjustment for ${line.adjustment_for}` : kind === "unpriced" ? "unpriced" : "usage"))
    .join(", ");
}

/** What was used: the meter with its model or GPU type (of an invoice line or a usage event). */
export const lineItem = (line: Pick<InvoiceLine, "meter" | "model" | "gpu_type">): string =>
  line.model ? `${line.meter} · ${line.model}` : line.gpu_type ? `${line.meter} · ${line.gpu_type}` : line.meter;

export const hasUnpriced = (lines: readonly InvoiceLine[]): boolean => lines.some((line) => lineKinds(line).includes("unpriced"));
