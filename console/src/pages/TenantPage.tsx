import { useMemo, useState } from "react";
import { Link, useParams } from "react-router";
import { billing, budgets, unwrap } from "../api/clients";
import type { components } from "../api/generated/budgets";
import { useApi } from "../api/useApi";
import { Chart } from "../components/Chart";
import { DataTable } from "../components/DataTable";
import { ForecastPanel } from "../components/ForecastPanel";
import { Loadable } from "../components/Status";
import { usePageTitle } from "../components/usePageTitle";
import { isAdmin, useSession } from "../auth/SessionContext";
import { QuotaEditor } from "./QuotaEditor";
import { firstDayOf, utcDate, utcMonth, utcMoment } from "../lib/dates";
import { formatMoney, formatQuantity } from "../lib/money";
import { spendChart, spendRows, type Spend, type SpendRow } from "../lib/spendView";

type Limit = components["schemas"]["LimitView"];
type Usage = components["schemas"]["MeterUsageView"];
type Change = components["schemas"]["QuotaChange"];
type QuotaLimit = components["schemas"]["QuotaLimit"];
type Budget = components["schemas"]["BudgetView"];

/**
 * One tenant: its budget now (limits, used, remaining, resets, each month limit's forecast and exhaustion date), its
 * usage per day this month, its month-end spend forecast, for admins the quota editor, and its quota history.
 */
export function TenantPage() {
  const tenant = useParams().tenant ?? "";
  usePageTitle(`Tenant ${tenant}`);
  const now = new Date();
  const today = utcDate(now);
  const period = utcMonth(now);

  const { session } = useSession();
  // A save answers the new budget, shown at once; the history is read again to list the change.
  const [saved, setSaved] = useState<{ tenant: string; budget: Budget; count: number }>();
  const savedBudget = saved?.tenant === tenant ? saved.budget : undefined;
  const loadedBudget = useApi((signal) => unwrap(budgets.GET("/v1/tenants/{tenant}/budget", { params: { path: { tenant } }, signal })), [tenant]);
  const budget = savedBudget ? { state: "ok" as const, data: savedBudget } : loadedBudget;
  const history = useApi(
    (signal) => unwrap(budgets.GET("/v1/tenants/{tenant}/quota/history", { params: { path: { tenant } }, signal })),
    [tenant, saved?.count],
  );
  const usage = useApi(
    (signal) =>
      unwrap(billing.GET("/v1/spend", { params: { query: { from: firstDayOf(period), to: today, group_by: "meter", granularity: "day", tenant } }, signal })),
    [tenant, period, today],
  );
  const forecast = useApi(
    (signal) => unwrap(billing.GET("/v1/forecast/{period}", { params: { path: { period }, query: { tenant } }, signal })),
    [tenant, period],
  );

  return (
    <>
      <p className="crumbs">
        <Link to="/tenants">Tenants</Link> /
      </p>
      <h1>Tenant {tenant}</h1>
      <section aria-labelledby="budget-heading">
        <h2 id="budget-heading">Budget</h2>
        <Loadable loaded={budget} what="the budget">
          {(data) => (
            <>
              <p>
                Status: <span className={`status status-${data.status}`}>{data.status}</span>
              </p>
              <DataTable<Limit>
                caption="Limits now"
                rows={data.limits}
                rowKey={(l) => `${l.meter}/${l.period}`}
                empty="No limits: this tenant is not throttled."
                columns={[
                  { header: "meter", cell: (l) => l.meter },
                  { header: "period", cell: (l) => l.period },
                  { header: "limit", cell: (l) => formatQuantity(l.limit), numeric: true },
                  { header: "used", cell: (l) => formatQuantity(l.used), numeric: true },
                  { header: "remaining", cell: (l) => formatQuantity(l.remaining), numeric: true },
                  { header: "soft %", cell: (l) => String(l.soft_pct), numeric: true },
                  { header: "enforcement", cell: (l) => l.enforcement },
                  { header: "resets (UTC)", cell: (l) => utcMoment(l.resets_at) },
                  { header: "used at period end (forecast)", cell: (l) => (l.forecast ? formatQuantity(l.forecast.used_at_period_end) : "—"), numeric: true },
                  { header: "80 % interval", cell: (l) => (l.forecast ? `${formatQuantity(l.forecast.low)} – ${formatQuantity(l.forecast.high)}` : "—"), numeric: true },
                  { header: "exhausted on (UTC)", cell: (l) => (l.forecast ? (l.forecast.exhausted_on ?? "not this period") : "—") },
                ]}
              />
              <p className="hint">Forecasts are for month limits: the usage expected at the month's end (UTC) and the day the limit would run out.</p>
              <DataTable<Usage>
                caption="Usage in the current UTC day and month, per meter"
                rows={data.usage}
                rowKey={(u) => `${u.meter}/${u.period}`}
                empty="No usage this month."
                columns={[
                  { header: "meter", cell: (u) => u.meter },
                  { header: "period", cell: (u) => u.period },
                  { header: "used", cell: (u) => formatQuantity(u.used), numeric: true },
                ]}
              />
            </>
          )}
        </Loadable>
      </section>

      {isAdmin(session) && loadedBudget.state === "ok" && (
        <QuotaEditor
          key={tenant}
          tenant={tenant}
          limits={budget.state === "ok" ? budget.data.limits : []}
          onSaved={(next) => setSaved({ tenant, budget: next, count: (saved?.count ?? 0) + 1 })}
        />
      )}

      <section aria-labelledby="usage-heading">
        <h2 id="usage-heading">Usage per day</h2>
        <Loadable loaded={usage} what="usage per day">
          {(data) => <UsagePerDay spend={data} />}
        </Loadable>
      </section>

      <Loadable loaded={forecast} what="the forecast">
        {(data) => <ForecastPanel forecast={data} caption={`Spend of ${tenant} in ${period}`} />}
      </Loadable>

      <section aria-labelledby="history-heading">
        <h2 id="history-heading">Quota history</h2>
        <Loadable loaded={history} what="the quota history">
          {(data) => (
            <DataTable<Change>
              caption="Every change of this tenant's limits, newest last"
              rows={data.changes}
              rowKey={(c, i) => `${c.changed_at}/${i}`}
              empty="The limits were never changed."
              columns={[
                { header: "changed (UTC)", cell: (c) => utcMoment(c.changed_at) },
                { header: "by", cell: (c) => c.changed_by },
                { header: "before", cell: (c) => describeLimits(c.before) },
                { header: "after", cell: (c) => describeLimits(c.after) },
              ]}
            />
          )}
        </Loadable>
      </section>
    </>
  );
}

function describeLimits(limits: QuotaLimit[]): string {
  if (limits.length === 0) return "none";
  return limits.map((l) => `${l.meter} ${formatQuantity(l.limit)}/${l.period} (soft ${l.soft_pct} %, ${l.enforcement})`).join(", ");
}

function UsagePerDay({ spend }: { spend: Spend }) {
  const rows = useMemo(() => spendRows(spend), [spend]);
  const chart = useMemo(() => spendChart(spend), [spend]);
  return (
    <>
      <Chart x={chart.x} series={chart.series} yLabel={spend.currency} />
      <DataTable<SpendRow>
        caption={`Usage and its cost per meter and UTC day, ${spend.from} to ${spend.to}`}
        rows={rows}
        rowKey={(r) => `${r.key}/${r.date}`}
        columns={[
          { header: "meter", cell: (r) => r.key },
          { header: "date (UTC)", cell: (r) => r.date },
          { header: "quantity", cell: (r) => formatQuantity(r.quantity), numeric: true },
          { header: "cost", cell: (r) => formatMoney(r.cost, spend.currency), numeric: true },
        ]}
      />
    </>
  );
}
