import { describe, expect, it } from "vitest";
import {
  closeChecklist,
  draftsToFinalize,
  finalizeSummary,
  readyToClose,
  refusalReason,
  type Reconciliation,
} from "../src/lib/monthClose";

const balanced: Reconciliation = {
  period: "2026-10",
  currency: "USD",
  usage_priced: "120.50",
  invoices: "120.50",
  ledger_debits: "120.50",
  ledger_credits: "-120.50",
  statements: "120.50",
  capacity: null,
  counts: { accepted: 10, duplicates: 2, rejected: 1, dead_lettered: 0, late: 3, voided: 1, refused: 0 },
  unpriced: [],
  differences: [],
  balanced: true,
  ledger_current: true,
};

const statusOf = (r: Reconciliation, id: string) => closeChecklist(r).find((item) => item.id === id)?.status;

describe("the month-close checklist", () => {
  it("is all ok when the four counts agree, the ledger is current and nothing is unpriced or dead-lettered", () => {
    const items = closeChecklist(balanced);
    expect(items.map((i) => i.status)).toEqual(items.map(() => "ok"));
    expect(readyToClose(items)).toBe(true);
    expect(items.find((i) => i.id === "usage_vs_invoices")?.detail).toBe("120.50 = 120.50");
  });

  it("marks the check a difference belongs to, with the API's figures", () => {
    const r: Reconciliation = {
      ...balanced,
      invoices: "120.40",
      balanced: false,
      differences: [{ check: "usage_priced vs invoice", tenant: "acme", expected: "20.10", actual: "20.00" }],
    };
    expect(statusOf(r, "usage_vs_invoices")).toBe("difference");
    expect(closeChecklist(r).find((i) => i.id === "usage_vs_invoices")?.detail).toBe("1 difference: 120.50 vs 120.40");
    expect(statusOf(r, "invoices_vs_ledger")).toBe("difference"); // 120.40 ≠ 120.50, even without a listed difference
    expect(statusOf(r, "ledger_vs_statements")).toBe("ok");
    expect(readyToClose(closeChecklist(r))).toBe(false);
  });

  it("marks a check whose per-tenant differences cancel out in the month's totals", () => {
    const r: Reconciliation = {
      ...balanced,
      balanced: false,
      differences: [
        { check: "invoice vs ledger_debits", tenant: "acme", expected: "10.00", actual: "10.01" },
        { check: "invoice vs ledger_debits", tenant: "beta", expected: "5.01", actual: "5.00" },
      ],
    };
    expect(statusOf(r, "invoices_vs_ledger")).toBe("difference");
    expect(closeChecklist(r).find((i) => i.id === "invoices_vs_ledger")?.detail).toBe("2 differences: 120.50 vs 120.50");
    expect(statusOf(r, "usage_vs_invoices")).toBe("ok");
  });

  it("asks for a look at a ledger still catching up, unpriced usage and dead letters", () => {
    expect(statusOf({ ...balanced, ledger_current: false }, "ledger_current")).toBe("attention");
    expect(statusOf({ ...balanced, unpriced: [{ tenant: "acme", meter: "gpu_seconds", gpu_type: "b200", quantity: "3600" }] }, "unpriced")).toBe("attention");
    expect(statusOf({ ...balanced, counts: { ...balanced.counts, dead_lettered: "2" } }, "dead_lettered")).toBe("attention");
  });

  it("shows capacity differences when there is an idle allocation", () => {
    expect(statusOf(balanced, "capacity")).toBeUndefined();
    const r: Reconciliation = {
      ...balanced,
      capacity: { mode: "chargeback", cost: "100.00", idle_cost: "40.00", allocated: "39.99", posted: "39.99" },
      differences: [{ check: "idle_cost vs allocated", tenant: null, expected: "40.00", actual: "39.99" }],
    };
    expect(statusOf(r, "capacity")).toBe("difference");
  });
});

describe("finalize all", () => {
  it("goes through the period's drafts only, by tenant", () => {
    const invoices = [
      { tenant: "zeta", status: "draft", total: "1.00" },
      { tenant: "acme", status: "finalized", total: "2.00" },
      { tenant: "beta", status: "draft", total: "3.00" },
    ];
    expect(draftsToFinalize(invoices)).toEqual(["beta", "zeta"]);
  });

  it("counts each step's result and says why one was refused", () => {
    const problem = { status: 409, title: "The month has not ended", detail: "2026-12 ends at 2027-01-01T00:00:00Z.", errors: {} };
    const steps = [
      { tenant: "a", state: "finalized" as const, total: "1.00" },
      { tenant: "b", state: "refused" as const, problem },
      { tenant: "c", state: "pending" as const },
    ];
    expect(finalizeSummary(steps)).toEqual({ finalized: 1, refused: 1, pending: 1 });
    expect(refusalReason(problem)).toBe("The month has not ended (409) — 2026-12 ends at 2027-01-01T00:00:00Z.");
    expect(refusalReason({ status: 400, title: "Invalid", errors: { force: ["must be a boolean"] } })).toBe("Invalid (400) — force: must be a boolean");
  });
});
