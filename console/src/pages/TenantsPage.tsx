import { useMemo, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { billing, getJson, unwrap } from "../api/clients";
import type { components } from "../api/generated/budgets";
import { useApi } from "../api/useApi";
import { DataTable } from "../components/DataTable";
import { Loading, ProblemView } from "../components/Status";
import { usePageTitle } from "../components/usePageTitle";
import { firstDayOf, utcDate, utcMoment } from "../lib/dates";
import { formatMoney } from "../lib/money";
import { readView, writeView } from "../lib/urlState";

type TenantList = components["schemas"]["TenantListView"];
type Tenant = components["schemas"]["TenantSummary"];

const pageSize = "100";
const spec = {
  status: { default: "", allowed: ["ok", "warning", "throttled"] },
  q: { default: "" },
  cursor: { default: "" },
};

/** Every tenant Budgets knows, a page at a time (the API's cursor in the URL), with its month-to-date spend. */
export function TenantsPage() {
  usePageTitle("Tenants");
  const [params, setParams] = useSearchParams();
  const view = readView(spec, params);
  const today = utcDate(new Date());

  const list = useApi(
    (signal) => getJson<TenantList>("/api/budgets/v1/tenants", { status: view.status, q: view.q, cursor: view.cursor, limit: pageSize }, signal),
    [view.status, view.q, view.cursor],
  );
  const spend = useApi(
    (signal) =>
      unwrap(billing.GET("/v1/spend", { params: { query: { from: firstDayOf(today.slice(0, 7)), to: today, group_by: "tenant", granularity: "month" } }, signal })),
    [today],
  );
  const spendByTenant = useMemo(() => {
    const map = new Map<string, string>();
    if (spend.state === "ok") for (const s of spend.data.series) if (s.key !== null && s.points[0]) map.set(s.key, s.points[0].cost);
    return map;
  }, [spend]);

  function filter(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    setParams(writeView(spec, { status: String(data.get("status") ?? ""), q: String(data.get("q") ?? "").trim(), cursor: "" }));
  }

  const mtd = (tenant: string) => {
    if (spend.state === "loading") return "…";
    if (spend.state === "error") return "unavailable";
    return formatMoney(spendByTenant.get(tenant) ?? "0", spend.data.currency);
  };

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
      {spend.state === "error" && <ProblemView problem={spend.problem} />}
      {list.state === "loading" && <Loading what="tenants" />}
      {list.state === "error" && <ProblemView problem={list.problem} />}
      {list.state === "ok" && (
        <>
          <DataTable<Tenant>
            caption={`Tenants${view.status ? ` with status ${view.status}` : ""}${view.q ? ` starting with "${view.q}"` : ""}; spend is month to date (UTC)`}
            rows={list.data.tenants}
            rowKey={(t) => t.tenant}
            columns={[
              { header: "tenant", cell: (t) => <Link to={`/tenants/${encodeURIComponent(t.tenant)}`}>{t.tenant}</Link> },
              { header: "status", cell: (t) => <span className={`status status-${t.status}`}>{t.status}</span> },
              { header: "limits", cell: (t) => String(t.limits), numeric: true },
              { header: "month-to-date spend", cell: (t) => mtd(t.tenant), numeric: true },
              { header: "updated (UTC)", cell: (t) => utcMoment(t.updated_at) },
            ]}
          />
          <nav className="pager" aria-label="Tenant pages">
            {view.cursor && <Link to={`?${writeView(spec, { ...view, cursor: "" })}`}>First page</Link>}
            {list.data.next_cursor && <Link to={`?${writeView(spec, { ...view, cursor: list.data.next_cursor })}`}>Next page</Link>}
          </nav>
        </>
      )}
    </>
  );
}
