import { useState } from "react";
import { Link, useParams, useSearchParams } from "react-router";
import { attempt, type Attempt } from "../api/attempt";
import { billing, unwrap } from "../api/clients";
import type { components } from "../api/generated/billing";
import { useApi } from "../api/useApi";
import { isAdmin, useSession } from "../auth/SessionContext";
import { DataTable } from "../components/DataTable";
import { fieldErrors } from "../components/fieldErrors";
import { Figures } from "../components/Figures";
import { FinalizeOptions, finalizeBody } from "../components/FinalizeOptions";
import { Loadable, ProblemView } from "../components/Status";
import { usePageTitle } from "../components/usePageTitle";
import { useSubmit } from "../components/useSubmit";
import { utcMoment } from "../lib/dates";
import { hasUnpriced, lineItem, lineKinds, lineLabel, type InvoiceLine } from "../lib/invoiceLines";
import { formatMoney, formatQuantity } from "../lib/money";
import { readView, writeView } from "../lib/urlState";

type Invoice = components["schemas"]["InvoiceView"];
type UsageEntry = components["schemas"]["UsageEntry"];
type VoidView = components["schemas"]["VoidView"];

const usagePageSize = 100;
const usageSpec = { offset: { default: "0", valid: (v: string) => /^\d{1,9}$/.test(v) } };

/** One tenant's invoice of a month: its lines (adjustments and unpriced usage marked), its usage, and for admins finalize and void. */
export function InvoicePage() {
  const { tenant = "", period = "" } = useParams();
  usePageTitle(`Invoice ${tenant} ${period}`);
  const { session } = useSession();
  const admin = isAdmin(session);
  const [params, setParams] = useSearchParams();
  const { offset } = readView(usageSpec, params);
  // Bumped after a finalize or void, so the invoice and its usage are read again from the API.
  const [version, setVersion] = useState(0);
  const [voidId, setVoidId] = useState("");
  const [finalized, setFinalized] = useState<Attempt<Invoice> | null>(null);

  const invoice = useApi(
    (signal) => unwrap(billing.GET("/v1/invoices/{tenant}/{period}", { params: { path: { tenant, period } }, signal })),
    [tenant, period, version],
  );
  const usage = useApi(
    (signal) =>
      unwrap(
        billing.GET("/v1/invoices/{tenant}/{period}/usage", {
          params: { path: { tenant, period }, query: { offset, limit: String(usagePageSize) } },
          signal,
        }),
      ),
    [tenant, period, offset, version],
  );
  const changed = () => setVersion((v) => v + 1);

  return (
    <>
      <p className="crumbs">
        <Link to={`/invoices?period=${encodeURIComponent(period)}`}>Invoices</Link> /
      </p>
      <h1>
        Invoice of {tenant} for {period}
      </h1>
      <Loadable loaded={invoice} what="the invoice">
        {(data) => (
          <>
            <InvoiceLines invoice={data} />
            {admin && data.status === "draft" && (
              <section aria-labelledby="finalize-heading">
                <h2 id="finalize-heading">Finalize</h2>
                <FinalizeForm
                  invoice={data}
                  onAnswer={(answer) => {
                    setFinalized(answer);
                    if (answer.ok) changed();
                  }}
                />
              </section>
            )}
          </>
        )}
      </Loadable>
      {finalized &&
        (finalized.ok ? (
          <p role="status">
            Finalized {finalized.data.period}: total {formatMoney(finalized.data.total, finalized.data.currency)}.
          </p>
        ) : (
          <ProblemView problem={finalized.problem} />
        ))}

      <section aria-labelledby="usage-heading">
        <h2 id="usage-heading">Usage behind this invoice</h2>
        <Loadable loaded={usage} what="the usage">
          {(data) => {
            const from = Number(data.offset);
            return (
              <>
                <DataTable<UsageEntry>
                  caption={`Usage events ${from + 1}–${from + data.usage.length} (voids as negative entries)`}
                  rows={data.usage}
                  rowKey={(u, i) => `${u.id}/${i}`}
                  empty="No usage on this page."
                  columns={[
                    { header: "id", cell: (u) => <code>{u.id}</code> },
                    { header: "timestamp (UTC)", cell: (u) => utcMoment(u.timestamp) },
                    { header: "meter", cell: (u) => lineItem(u) },
                    { header: "service", cell: (u) => u.service ?? "—" },
                    { header: "quantity", cell: (u) => formatQuantity(u.quantity), numeric: true },
                    { header: "note", cell: (u) => [u.adjustment_for && `adjustment for ${u.adjustment_for}`, u.void_reason && `voided: ${u.void_reason}`].filter(Boolean).join("; ") || "—" },
                    ...(admin
                      ? [{ header: "void", cell: (u: UsageEntry) => (u.void_reason ? "voided" : <button type="button" onClick={() => setVoidId(u.id)}>Void…</button>) }]
                      : []),
                  ]}
                />
                <p className="pager">
                  {from > 0 && (
                    <button type="button" onClick={() => setParams(writeView(usageSpec, { offset: String(Math.max(0, from - usagePageSize)) }))}>
                      Previous {usagePageSize}
                    </button>
                  )}
                  {data.usage.length === usagePageSize && (
                    <button type="button" onClick={() => setParams(writeView(usageSpec, { offset: String(from + usagePageSize) }))}>
                      Next {usagePageSize}
                    </button>
                  )}
                </p>
              </>
            );
          }}
        </Loadable>
      </section>

      {admin && <VoidForm tenant={tenant} usageId={voidId} onUsageId={setVoidId} onVoided={changed} />}
    </>
  );
}

function InvoiceLines({ invoice }: { invoice: Invoice }) {
  const unpriced = hasUnpriced(invoice.lines);
  return (
    <section aria-labelledby="lines-heading">
      <h2 id="lines-heading">Lines</h2>
      <Figures
        figures={[
          { label: "Status", value: <span className={`status status-${invoice.status}`}>{invoice.status}</span> },
          { label: "Total", value: formatMoney(invoice.total, invoice.currency) },
        ]}
      />
      {unpriced && <p className="warning">This invoice holds unpriced usage: no rate-card price covers the lines marked "unpriced".</p>}
      <DataTable<InvoiceLine>
        caption={`The invoice's lines (${invoice.currency}); adjustment lines carry usage of an already finalized month`}
        rows={invoice.lines}
        rowKey={(l, i) => `${lineItem(l)}/${l.unit_price}/${l.adjustment_for}/${i}`}
        empty="No lines."
        columns={[
          { header: "line", cell: (l) => lineItem(l) },
          { header: "kind", cell: (l) => <span className={lineKinds(l).map((k) => `line-${k}`).join(" ")}>{lineLabel(l)}</span> },
          { header: "quantity", cell: (l) => formatQuantity(l.quantity), numeric: true },
          { header: "unit price", cell: (l) => (l.unit_price === null ? "unpriced" : formatMoney(l.unit_price, invoice.currency)), numeric: true },
          { header: "amount", cell: (l) => formatMoney(l.amount, invoice.currency), numeric: true },
        ]}
      />
    </section>
  );
}

/** Finalize's form; its answer is kept by the page, so it stays shown while the finalized invoice is read again. */
function FinalizeForm({ invoice, onAnswer }: { invoice: Invoice; onAnswer: (answer: Attempt<Invoice>) => void }) {
  const [busy, submit] = useSubmit(async (data) =>
    onAnswer(
      await attempt(
        billing.POST("/v1/invoices/{tenant}/{period}/finalize", {
          params: { path: { tenant: invoice.tenant, period: invoice.period } },
          body: finalizeBody(data),
        }),
      ),
    ),
  );

  return (
    <form className="view-form" onSubmit={submit} aria-label="Finalize">
      <FinalizeOptions />
      <button type="submit" disabled={busy}>
        Finalize {invoice.period}
      </button>
    </form>
  );
}

function VoidForm({ tenant, usageId, onUsageId, onVoided }: { tenant: string; usageId: string; onUsageId: (id: string) => void; onVoided: () => void }) {
  const [result, setResult] = useState<Attempt<VoidView> | null>(null);
  const [busy, submit] = useSubmit(async (data) => {
    const answer = await attempt(
      billing.POST("/v1/usage/{tenant}/{id}/void", {
        params: { path: { tenant, id: usageId } },
        body: { reason: String(data.get("reason") ?? "") },
      }),
    );
    setResult(answer);
    if (answer.ok) onVoided();
  });

  const { input } = fieldErrors(result && !result.ok ? result.problem.errors : {});
  return (
    <section aria-labelledby="void-heading">
      <h2 id="void-heading">Void a usage</h2>
      <form className="view-form" onSubmit={submit}>
        <label>
          Usage id
          <input type="text" name="id" value={usageId} onChange={(e) => onUsageId(e.target.value)} required spellCheck={false} />
        </label>
        {input("Reason", "reason", { type: "text", required: true })}
        <button type="submit" disabled={busy || usageId === ""}>
          Void
        </button>
      </form>
      {result &&
        (result.ok ? (
          <p role="status">
            Voided {result.data.usage_id} ({formatQuantity(result.data.quantity)} {result.data.meter} of {result.data.month}) at {utcMoment(result.data.at)}
            {result.data.correction_on ? `; a correction line goes on the ${result.data.correction_on} invoice` : ""}.
          </p>
        ) : (
          <ProblemView problem={result.problem} />
        ))}
    </section>
  );
}
