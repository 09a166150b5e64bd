import type { FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { budgets, unwrap } from "../api/clients";
import type { components } from "../api/generated/budgets";
import { useApi } from "../api/useApi";
import { DataTable } from "../components/DataTable";
import { fieldErrors } from "../components/fieldErrors";
import { Loading, ProblemView } from "../components/Status";
import { usePageTitle } from "../components/usePageTitle";
import { utcMoment } from "../lib/dates";
import { formatMoney, formatQuantity } from "../lib/money";
import { readView, writeView } from "../lib/urlState";

type Alert = components["schemas"]["AlertView"];

const pageSize = "100";
const spec = { tenant: { default: "" }, since: { default: "" }, cursor: { default: "" } };
const kinds: Record<string, string> = {
  soft: "soft threshold crossed",
  limit: "limit reached",
  forecast: "forecast over the limit",
};

/** A limit's figures: a cost_usd limit is money, the others are quantities of their meter. */
function figure(meter: string, value: Alert["forecast"] | undefined): string {
  if (value === null || value === undefined) return "—";
  return meter === "cost_usd" ? formatMoney(String(value)) : formatQuantity(value);
}

/** The budget alerts Budgets sent, newest first, filtered by tenant and moment, a page at a time (cursor in the URL). */
export function AlertsPage() {
  usePageTitle("Alerts");
  const [params, setParams] = useSearchParams();
  const view = readView(spec, params);
  const loaded = useApi(
    (signal) =>
      unwrap(
        budgets.GET("/v1/alerts", {
          params: { query: { tenant: view.tenant || undefined, since: view.since || undefined, cursor: view.cursor || undefined, limit: pageSize } },
          signal,
        }),
      ),
    [view.tenant, view.since, view.cursor],
  );

  function filter(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    setParams(writeView(spec, { tenant: String(data.get("tenant") ?? "").trim(), since: String(data.get("since") ?? "").trim(), cursor: "" }));
  }

  const { input } = fieldErrors(loaded.state === "error" ? loaded.problem.errors : {});

  return (
    <>
      <h1>Alerts</h1>
      <form className="view-form" onSubmit={filter} key={params.toString()}>
        {input("Tenant", "tenant", { type: "text", defaultValue: view.tenant, spellCheck: false })}
        {input("Since (RFC 3339, e.g. 2026-11-01T00:00:00Z)", "since", { type: "text", defaultValue: view.since, spellCheck: false })}
        <button type="submit">Show</button>
      </form>
      {loaded.state === "loading" && <Loading what="alerts" />}
      {loaded.state === "error" && <ProblemView problem={loaded.problem} />}
      {loaded.state === "ok" && (
        <>
          <DataTable<Alert>
            caption={`Alerts sent, newest first${view.tenant ? `, of tenant ${view.tenant}` : ""}${view.since ? `, since ${utcMoment(view.since)}` : ""}`}
            rows={loaded.data.alerts}
            rowKey={(a, i) => `${a.at}/${a.tenant}/${a.kind}/${a.meter}/${a.period}/${i}`}
            empty="No alerts in this view."
            columns={[
              { header: "sent (UTC)", cell: (a) => utcMoment(a.at) },
              { header: "tenant", cell: (a) => <Link to={`/tenants/${encodeURIComponent(a.tenant)}`}>{a.tenant}</Link> },
              { header: "kind", cell: (a) => a.kind },
              { header: "meaning", cell: (a) => kinds[a.kind] ?? "" },
              { header: "meter", cell: (a) => a.meter },
              { header: "period", cell: (a) => a.period },
              { header: "limit", cell: (a) => figure(a.meter, a.limit), numeric: true },
              { header: "used", cell: (a) => figure(a.meter, a.used), numeric: true },
              { header: "forecast at period end", cell: (a) => figure(a.meter, a.forecast), numeric: true },
            ]}
          />
          <nav className="pager" aria-label="Alert pages">
            {view.cursor && <Link to={`?${writeView(spec, { ...view, cursor: "" })}`}>Newest</Link>}
            {loaded.data.next_cursor && <Link to={`?${writeView(spec, { ...view, cursor: loaded.data.next_cursor })}`}>Older alerts</Link>}
          </nav>
        </>
      )}
    </>
  );
}
