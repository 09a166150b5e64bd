import Decimal from "decimal.js";
import type { components } from "../api/generated/billing";
import type { Problem } from "../api/problem";

export type Reconciliation = components["schemas"]["ReconciliationView"];
export type InvoiceSummary = components["schemas"]["InvoiceSummaryView"];

/** One line of the month-close checklist: done, needs a look before finalizing, or wrong. */
export type CheckStatus = "ok" | "attention" | "difference";
export type CheckItem = { id: string; label: string; status: CheckStatus; detail: string };

const count = (value: number | string): number => Number(value);

/**
 * The reconciliation as a checklist, in the order a month close goes through it: the ledger caught up, the month's
 * money counted four ways with every difference, unpriced usage, and the intake counts that need a look.
 */
export function closeChecklist(r: Reconciliation): CheckItem[] {
  const differencesOf = (check: string) => r.differences.filter((d) => d.check === check).length;
  const moneyCheck = (id: string, label: string, expected: string, actual: string, check: string): CheckItem => {
    const n = differencesOf(check);
    const equal = new Decimal(expected).equals(actual);
    return {
      id,
      label,
      status: n === 0 && equal ? "ok" : "difference",
      detail: n === 0 ? `${expected} = ${actual}` : `${n} difference${n === 1 ? "" : "s"}: ${expected} vs ${actual}`,
    };
  };
  const items: CheckItem[] = [
    {
      id: "ledger_current",
      label: "The ledger has posted all recorded usage",
      status: r.ledger_current ? "ok" : "attention",
      detail: r.ledger_current ? "caught up" : "still catching up: reload shortly before closing",
    },
    moneyCheck("usage_vs_invoices", "Usage × rates = invoices", r.usage_priced, r.invoices, "usage_priced vs invoice"),
    moneyCheck("invoices_vs_ledger", "Invoices = ledger debits", r.invoices, r.ledger_debits, "invoice vs ledger_debits"),
    moneyCheck("ledger_vs_statements", "Ledger = team statements", r.ledger_debits, r.statements, "ledger_debits vs statements"),
    {
      id: "balance",
      label: "Postings balance to zero",
      status: differencesOf("postings balance to zero") === 0 ? "ok" : "difference",
      detail: `debits ${r.ledger_debits}, credits ${r.ledger_credits}`,
    },
    {
      id: "unpriced",
      label: "No unpriced usage",
      status: r.unpriced.length === 0 ? "ok" : "attention",
      detail:
        r.unpriced.length === 0
          ? "every line has a price"
          : `${r.unpriced.length} unpriced line${r.unpriced.length === 1 ? "" : "s"}: add a rate-card price, or finalize with "allow unpriced"`,
    },
    {
      id: "dead_lettered",
      label: "No dead-lettered events",
      status: count(r.counts.dead_lettered) === 0 ? "ok" : "attention",
      detail: `${count(r.counts.dead_lettered)} dead-lettered`,
    },
  ];
  const listed = new Set(["usage_priced vs invoice", "invoice vs ledger_debits", "ledger_debits vs statements", "postings balance to zero"]);
  const other = r.differences.filter((d) => !listed.has(d.check));
  if (r.capacity || other.length > 0)
    items.push({
      id: "capacity",
      label: "Idle capacity cost allocated and posted",
      status: other.length === 0 ? "ok" : "difference",
      detail: other.length === 0 ? "allocated = idle cost" : `${other.length} difference${other.length === 1 ? "" : "s"}`,
    });
  return items;
}

/** The month can be closed when nothing is wrong and nothing waits for a look. */
export const readyToClose = (items: readonly CheckItem[]): boolean => items.every((item) => item.status === "ok");

/** The invoices "finalize all" goes through: the period's drafts, by tenant. */
export function draftsToFinalize(invoices: readonly InvoiceSummary[]): string[] {
  return invoices.filter((i) => i.status === "draft").map((i) => i.tenant).sort();
}

/** One step of "finalize all": waiting, finalized (with its total) or refused (with the API's reason). */
export type FinalizeStep =
  | { tenant: string; state: "pending" }
  | { tenant: string; state: "finalized"; total: string }
  | { tenant: string; state: "refused"; problem: Problem };

export function finalizeSummary(steps: readonly FinalizeStep[]): { finalized: number; refused: number; pending: number } {
  const summary = { finalized: 0, refused: 0, pending: 0 };
  for (const step of steps) summary[step.state] += 1;
  return summary;
}

/** What a refusal says: the problem's title and detail (a 409's reason: the month has not ended, unpriced usage…). */
export function refusalReason(problem: Problem): string {
  const fields = Object.entries(problem.errors).map(([field, messages]) => `${field}: ${messages.join("; ")}`);
  return [`${problem.title}${problem.status ? ` (${problem.status})` : ""}`, problem.detail, ...fields].filter(Boolean).join(" — ");
}
