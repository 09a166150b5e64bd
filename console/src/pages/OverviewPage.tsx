import { useMemo } from "react";
import { Link, useSearchParams } from "react-router";
import { billing, getJson, unwrap } from "../api/clients";
import type { components as BudgetsSchemas } from "../api/generated/budgets";
import { useApi, type Loaded } from "../api/useApi";
import { isAdmin, useSession } from "../auth/SessionContext";
import { Chart } from "../components/Chart";
import { DataTable } from "../components/DataTable";
import { ForecastPanel } from "../components/ForecastPanel";
import { Loadable } from "../components/Status";
import { usePageTitle } from "../components/usePageTitle";
import { dateToEpochSeconds, firstDayOf, isPeriod, lastDayOf, utcDate, utcMonth } from "../lib/dates";
import { formatMoney, toPlotNumber } from "../lib/money";
import { teamScope } from "../lib/scope";
import { groupName, rankedSeries, seriesTotal, spendPerDate, type Spend } from "../lib/spendView";
import { readView, writeView } from "../lib/urlState";

type TenantCounts = BudgetsSchemas["schemas"]["TenantCountsView"];
const statuses = ["ok", "warning", "throttled"] as const;

function overviewSpec(now: Date) {
  return { period: { default: utcMonth(now), valid: isPeriod } };
}

export function OverviewPage() {
  const { session } = useSession();
  const [params, setParams] = useSearchParams();
  const now = new Date();
  const spec = overviewSpec(now);
  const { period } = readView(spec, params);
  const today = utcDate(now);
  const from = firstDayOf(period);
  const to = lastDayOf(period, today);
  const team = teamScope(session);
  const title = team ? `Overview of team ${team}` : "Overview";
  usePageTitle(title);

  const forecast = useApi(
    (signal) => unwrap(billing.GET("/v1/forecast/{period}", { params: { path: { period }, query: { team } }, signal })),
    [period, team],
  );
  const spend = (groupBy: "team" | "tenant" | "model", granularity: "day" | "month") => (signal: AbortSignal) =>
    unwrap(billing.GET("/v1/spend", { params: { query: { from, to, group_by: groupBy, granularity, team } }, signal }));
  const perDay = useApi(spend("team", "day"), [from, to, team]);
  // Measured at 10,000 tenants (./metering bench console): by tenant over the whole calendar month (answered from the
  // month's invoices) is no faster than month to date, so the page keeps the month-to-date spend.
  const tenants = useApi(spend("tenant", "month"), [from, to, team]);
  const teams = useApi(spend("team", "month"), [from, to, team]);
  const models = useApi(spend("model", "month"), [from, to, team]);
  const admin = isAdmin(session);
  const counts = useApi(
    async (signal) => (admin ? getJson<TenantCounts>("/api/budgets/v1/tenants/counts", {}, signal) : null),
    [admin],
  );

  return (
    <>
      <div className="page-head">
        <h1>{title}</h1>
        <label>
          Month (UTC){" "}
          <input
            type="month"
            value={period}
            max={utcMonth(now)}
            onChange={(e) => isPeriod(e.target.value) && setParams(writeView(spec, { period: e.target.value }))}
          />
        </label>
      </div>
      <p className="muted">
        {from} to {to} (UTC)
      </p>

      <Loadable loaded={forecast} what="the forecast">
        {(data) => <ForecastPanel forecast={data} caption={`Spend of ${period}`} />}
      </Loadable>

      <section aria-labelledby="per-day-heading">
        <h2 id="per-day-heading">Spend per day</h2>
        <Loadable loaded={perDay} what="spend per day">
          {(data) => <SpendPerDay spend={data} />}
        </Loadable>
      </section>

      <div className="columns">
        <TopList title="Biggest tenants" loaded={tenants} link={admin ? (key) => `/tenants/${encodeURIComponent(key)}` : undefined} />
        <TopList title="Biggest teams" loaded={teams} />
        <TopList title="Biggest models" loaded={models} />
      </div>

      {admin && (
        <section aria-labelledby="status-heading">
          <h2 id="status-heading">Tenants by budget status</h2>
          <Loadable loaded={counts} what="tenant counts">
            {(data) => (
              <DataTable
                caption="Tenants Budgets knows, by status now"
                rows={statuses.map((status) => ({ status, count: data?.[status] ?? 0 }))}
                rowKey={(r) => r.status}
                columns={[
                  { header: "status", cell: (r) => <Link to={`/tenants?status=${r.status}`}>{r.status}</Link> },
                  { header: "tenants", cell: (r) => r.count.toLocaleString("en-US"), numeric: true },
                ]}
              />
            )}
          </Loadable>
        </section>
      )}
    </>
  );
}

function SpendPerDay({ spend }: { spend: Spend }) {
  const days = useMemo(() => spendPerDate(spend), [spend]);
  const x = useMemo(() => days.map((d) => dateToEpochSeconds(d.date)), [days]);
  const series = useMemo(() => [{ label: "spend", values: days.map((d) => toPlotNumber(d.cost)) }], [days]);
  return (
    <>
      <Chart x={x} series={series} yLabel={spend.currency} />
      <DataTable
        caption={`Spend per UTC day, ${spend.from} to ${spend.to}`}
        rows={days}
        rowKey={(d) => d.date}
        columns={[
          { header: "date (UTC)", cell: (d) => d.date },
          { header: "spend", cell: (d) => formatMoney(d.cost, spend.currency), numeric: true },
        ]}
      />
    </>
  );
}

function TopList({ title, caption = `${title}, month to date`, loaded, link }: {
  title: string;
  caption?: string;
  loaded: Loaded<Spend>;
  link?: (key: string) => string;
}) {
  return (
    <section>
      <h2>{title}</h2>
      <Loadable loaded={loaded} what={title.toLowerCase()}>
        {(spend) => (
          <DataTable
            caption={caption}
            rows={rankedSeries(spend).slice(0, 5)}
            rowKey={(s) => groupName(s.key)}
            columns={[
              {
                header: spend.group_by,
                cell: (s) => (link && s.key !== null ? <Link to={link(s.key)}>{s.key}</Link> : groupName(s.key)),
              },
              { header: "spend", cell: (s) => formatMoney(seriesTotal(s), spend.currency), numeric: true },
            ]}
          />
        )}
      </Loadable>
    </section>
  );
}
