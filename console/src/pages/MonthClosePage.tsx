import { useMemo, useState, type FormEvent } from "react";
import { Link } from "react-router";
import { attempt } from "../api/attempt";
import { billing, unwrap } from "../api/clients";
import type { components } from "../api/generated/billing";
import { useApi } from "../api/useApi";
import { DataTable } from "../components/DataTable";
import { Figures } from "../components/Figures";
import { FinalizeOptions, finalizeBody } from "../components/FinalizeOptions";
import { PeriodForm } from "../components/PeriodForm";
import { Loadable } from "../components/Status";
import { usePageTitle } from "../components/usePageTitle";
import { formatMoney, formatQuantity } from "../lib/money";
import {
  closeChecklist,
  draftsToFinalize,
  finalizeSummary,
  readyToClose,
  refusalReason,
  type CheckItem,
  type FinalizeStep,
  type Reconciliation,
} from "../lib/monthClose";
import { previousPeriod, usePeriod } from "./periodView";

type Difference = components["schemas"]["ReconciliationDifference"];
type Unpriced = components["schemas"]["UnpricedUsageView"];
type CountRow = { name: string; value: number | string };

const statusText: Record<CheckItem["status"], string> = { ok: "✓ ok", attention: "! needs a look", difference: "✗ difference" };

/** The month close (admin): the period's reconciliation as a checklist, then "finalize all" over its draft invoices. */
export function MonthClosePage() {
  usePageTitle("Month close");
  const [period, setPeriod] = usePeriod(previousPeriod());
  const [version, setVersion] = useState(0);

  const reconciliation = useApi(
    (signal) => unwrap(billing.GET("/v1/reconciliation/{period}", { params: { path: { period } }, signal })),
    [period, version],
  );
  const invoices = useApi((signal) => unwrap(billing.GET("/v1/invoices", { params: { query: { period } }, signal })), [period, version]);

  return (
    <>
      <h1>Month close</h1>
      <PeriodForm
        period={period}
        onPeriod={setPeriod}
        error={reconciliation.state === "error" ? reconciliation.problem.errors.period : undefined}
      />
      <Loadable loaded={reconciliation} what="the reconciliation">
        {(data) => <ReconciliationView reconciliation={data} />}
      </Loadable>
      <section aria-labelledby="finalize-all-heading">
        <h2 id="finalize-all-heading">Finalize all</h2>
        <Loadable loaded={invoices} what="the invoices">
          {(data) => (
            <FinalizeAll key={`${period}/${version}`} period={period} drafts={draftsToFinalize(data.invoices)} onDone={() => setVersion((v) => v + 1)} />
          )}
        </Loadable>
      </section>
    </>
  );
}

function ReconciliationView({ reconciliation: r }: { reconciliation: Reconciliation }) {
  const items = useMemo(() => closeChecklist(r), [r]);
  const counts: CountRow[] = Object.entries(r.counts).map(([name, value]) => ({ name, value }));
  return (
    <section aria-labelledby="checklist-heading">
      <h2 id="checklist-heading">Reconciliation of {r.period} (UTC)</h2>
      <p className={readyToClose(items) ? "check-ok" : "warning"}>
        {readyToClose(items)
          ? "Everything reconciles: the month can be closed."
          : r.balanced
            ? "The money reconciles, but some items need a look before closing."
            : "Not balanced: see the differences below."}
      </p>
      <DataTable<CheckItem>
        caption="Month-close checklist"
        rows={items}
        rowKey={(i) => i.id}
        columns={[
          { header: "check", cell: (i) => i.label },
          { header: "status", cell: (i) => <span className={`check-${i.status}`}>{statusText[i.status]}</span> },
          { header: "detail", cell: (i) => i.detail },
        ]}
      />
      <Figures
        figures={[
          { label: "Usage × rates", value: formatMoney(r.usage_priced, r.currency) },
          { label: "Invoices", value: formatMoney(r.invoices, r.currency) },
          { label: "Ledger debits", value: formatMoney(r.ledger_debits, r.currency) },
          { label: "Ledger credits", value: formatMoney(r.ledger_credits, r.currency) },
          { label: "Statements", value: formatMoney(r.statements, r.currency) },
        ]}
      />
      <DataTable<Difference>
        caption="Every difference"
        rows={r.differences}
        rowKey={(d, i) => `${d.check}/${d.tenant}/${i}`}
        empty="No differences."
        columns={[
          { header: "check", cell: (d) => d.check },
          { header: "tenant", cell: (d) => d.tenant ?? "—" },
          { header: "expected", cell: (d) => d.expected, numeric: true },
          { header: "actual", cell: (d) => d.actual, numeric: true },
        ]}
      />
      <DataTable<CountRow>
        caption="Event counts of the month"
        rows={counts}
        rowKey={(c) => c.name}
        columns={[
          { header: "events", cell: (c) => c.name.replace(/_/g, " ") },
          { header: "count", cell: (c) => formatQuantity(c.value), numeric: true },
        ]}
      />
      {r.unpriced.length > 0 && (
        <DataTable<Unpriced>
          caption="Unpriced usage (no rate-card price covers it)"
          rows={r.unpriced}
          rowKey={(u, i) => `${u.tenant}/${u.meter}/${u.model}/${u.gpu_type}/${i}`}
          columns={[
            { header: "tenant", cell: (u) => <Link to={`/invoices/${encodeURIComponent(u.tenant)}/${r.period}`}>{u.tenant}</Link> },
            { header: "meter", cell: (u) => u.meter },
            { header: "model / GPU", cell: (u) => u.model ?? u.gpu_type ?? "—" },
            { header: "adjustment for", cell: (u) => u.adjustment_for ?? "—" },
            { header: "quantity", cell: (u) => formatQuantity(u.quantity), numeric: true },
          ]}
        />
      )}
      {r.capacity && (
        <Figures
          figures={[
            { label: `Capacity (${r.capacity.mode})`, value: formatMoney(r.capacity.cost, r.currency) },
            { label: "Idle cost", value: formatMoney(r.capacity.idle_cost, r.currency) },
            { label: "Allocated", value: formatMoney(r.capacity.allocated, r.currency) },
            { label: "Posted", value: formatMoney(r.capacity.posted, r.currency) },
          ]}
        />
      )}
    </section>
  );
}

/** Finalizes the drafts one after another, each step's result shown as it comes: finalized, or refused with the API's reason. */
function FinalizeAll({ period, drafts, onDone }: { period: string; drafts: string[]; onDone: () => void }) {
  const [steps, setSteps] = useState<FinalizeStep[] | null>(null);
  const [running, setRunning] = useState(false);

  async function run(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const body = finalizeBody(data);
    let current: FinalizeStep[] = drafts.map((tenant) => ({ tenant, state: "pending" }));
    setSteps(current);
    setRunning(true);
    for (const tenant of drafts) {
      const answer = await attempt(billing.POST("/v1/invoices/{tenant}/{period}/finalize", { params: { path: { tenant, period } }, body }));
      const step: FinalizeStep = answer.ok ? { tenant, state: "finalized", total: answer.data.total } : { tenant, state: "refused", problem: answer.problem };
      current = current.map((s) => (s.tenant === tenant ? step : s));
      setSteps(current);
    }
    setRunning(false);
  }

  const summary = steps ? finalizeSummary(steps) : null;
  return (
    <>
      {drafts.length === 0 && !steps ? (
        <p>No draft invoices in {period}: nothing to finalize.</p>
      ) : (
        <form className="view-form" onSubmit={run}>
          <FinalizeOptions />
          <button type="submit" disabled={running || drafts.length === 0 || steps !== null}>
            Finalize all {drafts.length.toLocaleString("en-US")} draft invoices of {period}
          </button>
        </form>
      )}
      {steps && summary && (
        <>
          <p role="status">
            {summary.finalized} finalized, {summary.refused} refused{summary.pending > 0 ? `, ${summary.pending} to go` : ""}.
            {!running && (
              <>
                {" "}
                <button type="button" onClick={onDone}>
                  Reconcile again
                </button>
              </>
            )}
          </p>
          <DataTable<FinalizeStep>
            caption={`Finalize all of ${period}: each invoice's result`}
            rows={steps}
            rowKey={(s) => s.tenant}
            columns={[
              { header: "tenant", cell: (s) => <Link to={`/invoices/${encodeURIComponent(s.tenant)}/${period}`}>{s.tenant}</Link> },
              { header: "result", cell: (s) => (s.state === "pending" ? "waiting" : s.state) },
              {
                header: "detail",
                cell: (s) => (s.state === "finalized" ? `total ${formatMoney(s.total)}` : s.state === "refused" ? refusalReason(s.problem) : "—"),
              },
            ]}
          />
        </>
      )}
    </>
  );
}
