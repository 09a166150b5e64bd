import { useCallback, useEffect, useMemo, useState, useSyncExternalStore, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { billing, getJson, unwrap } from "../api/clients";
import type { components as BudgetsSchemas } from "../api/generated/budgets";
import type { components as BillingSchemas } from "../api/generated/billing";
import { problemFrom, problemTitle, type Problem } from "../api/problem";
import { useApi, type Loaded } from "../api/useApi";
import { Loading, ProblemView } from "../components/Status";
import { usePageTitle } from "../components/usePageTitle";
import { VirtualTable } from "../components/VirtualTable";
import { firstDayOf, utcDate, utcMoment } from "../lib/dates";
import { readAllPages } from "../lib/keysetPages";
import { formatMoney } from "../lib/money";
import { RowLoads, type RowLoad } from "../lib/rowLoads";
import { TenantSpend } from "../lib/tenantSpend";
import { readView, writeView } from "../lib/urlState";

type TenantList = BudgetsSchemas["schemas"]["TenantListView"];
type Tenant = BudgetsSchemas["schemas"]["TenantSummary"];
type Forecast = BillingSchemas["schemas"]["ForecastView"];

/** Tenants whose forecast loads at once: six in flight (a browser's per-host limit). */
const rowConcurrency = 6;
const spec = {
  status: { default: "", allowed: ["ok", "warning", "throttled"] },
  q: { default: "" },
};

type Listing = { state: "loading" } | { state: "error"; problem: Problem; rows: readonly Tenant[] } | { state: "ok"; rows: readonly Tenant[]; complete: boolean };

/**
 * Every tenant Budgets knows, in one virtualised table: the first page of the list shows at once and the rest is read
 * page by page while the user reads. Month-to-date spend comes from one `GET /v1/spend?group_by=tenant&granularity=month`
 * for every tenant (Billing reads it from its tenant month rollup), not one request per row; each tenant on screen gets
 * its month-end forecast (`GET /v1/forecast/{period}?tenant=`), loaded when its row is rendered and kept.
 */
export function TenantsPage() {
  usePageTitle("Tenants");
  const [params, setParams] = useSearchParams();
  const view = readView(spec, params);
  const today = utcDate(new Date());
  const period = today.slice(0, 7);

  const [listing, setListing] = useState<Listing>({ state: "loading" });
  useEffect(() => {
    const abort = new AbortController();
    setListing({ state: "loading" });
    let rows: readonly Tenant[] = [];
    const readPage = (cursor: string | undefined, limit: number, signal: AbortSignal) =>
      getJson<TenantList>("/api/budgets/v1/tenants", { status: view.status, q: view.q, cursor, limit: String(limit) }, signal)
        .then((page) => ({ rows: page.tenants, next: page.next_cursor }));
    readAllPages(readPage, (all, complete) => {
      rows = all;
      setListing({ state: "ok", rows: all, complete });
    }, abort.signal).catch((error: unknown) => {
      if (abort.signal.aborted) return;
      const problem = problemFrom(error);
      setListing({ state: "error", problem, rows });
    });
    return () => abort.abort();
  }, [view.status, view.q]);

  const monthToDate = useApi(
    (signal) =>
      unwrap(billing.GET("/v1/spend", { params: { query: { from: firstDayOf(period), to: today, group_by: "tenant", granularity: "month" } }, signal })).then(
        (view) => new TenantSpend(view),
      ),
    [period, today],
  );

  const forecasts = useMemo(
    () =>
      new RowLoads<Forecast>(
        (tenant, signal) => unwrap(billing.GET("/v1/forecast/{period}", { params: { path: { period }, query: { tenant } }, signal })),
        rowConcurrency,
      ),
    [period],
  );
  useEffect(() => () => forecasts.close(), [forecasts]);
  useSyncExternalStore(forecasts.subscribe, forecasts.snapshot);
  const onRowsShown = useCallback((keys: string[]) => forecasts.want(keys), [forecasts]);

  function filter(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    setParams(writeView(spec, { status: String(data.get("status") ?? ""), q: String(data.get("q") ?? "").trim() }));
  }

  const rows = listing.state === "loading" ? [] : listing.rows;
  return (
    <>
      <h1>Tenants</h1>
      <form className="view-form" onSubmit={filter} key={params.toString()}>
        <label>
          Status
          <select name="status" defaultValue={view.status}>
            <option value="">any</option>
            <option value="ok">ok</option>
            <option value="warning">warning</option>
            <option value="throttled">throttled</option>
          </select>
        </label>
        <label>
          Tenant starts with
          <input type="search" name="q" defaultValue={view.q} spellCheck={false} />
        </label>
        <button type="submit">Show</button>
      </form>
      {listing.state === "loading" && <Loading what="tenants" />}
      {listing.state === "error" && <ProblemView problem={listing.problem} />}
      {listing.state !== "loading" && (
        <>
          <p className="muted" role="status" aria-live="polite">
            {rows.length.toLocaleString("en-US")} tenant{rows.length === 1 ? "" : "s"}
            {listing.state === "ok" && !listing.complete && " so far; loading the rest…"}
          </p>
          <VirtualTable<Tenant>
            caption={`Tenants${view.status ? ` with status ${view.status}` : ""}${view.q ? ` starting with "${view.q}"` : ""}; spend is month to date and the forecast month end, ${period} (UTC)`}
            rows={rows}
            rowKey={(t) => t.tenant}
            rowBusy={(t) => monthToDate.state === "loading" || forecasts.get(t.tenant).state === "loading"}
            onRowsShown={onRowsShown}
            columns={[
              { header: "tenant", cell: (t) => <Link to={`/tenants/${encodeURIComponent(t.tenant)}`}>{t.tenant}</Link> },
              { header: "status", cell: (t) => <span className={`status status-${t.status}`}>{t.status}</span> },
              { header: "limits", cell: (t) => String(t.limits), numeric: true },
              { header: "month-to-date spend", cell: (t) => spendCell(monthToDate, t.tenant), numeric: true },
              {
                header: "month-end forecast",
                cell: (t) => forecastCell(forecasts.get(t.tenant), monthToDate.state === "ok" ? monthToDate.data.currency : undefined),
                numeric: true,
              },
              { header: "updated (UTC)", cell: (t) => utcMoment(t.updated_at) },
            ]}
          />
        </>
      )}
    </>
  );
}

/** Every tenant's month to date comes from one spend request for the whole list. */
function spendCell(monthToDate: Loaded<TenantSpend>, tenant: string) {
  if (monthToDate.state === "loading") return "…";
  if (monthToDate.state === "error") return <span title={problemTitle(monthToDate.problem)}>unavailable</span>;
  return formatMoney(monthToDate.data.of(tenant), monthToDate.data.currency);
}

function forecastCell(load: RowLoad<Forecast>, currency: string | undefined) {
  if (load.state === "loading") return "…";
  if (load.state === "error") return <span title={load.title}>unavailable</span>;
  return load.data.forecast == null ? "none yet" : formatMoney(load.data.forecast, currency);
}
