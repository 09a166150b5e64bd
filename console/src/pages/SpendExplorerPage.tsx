import { Fragment, useMemo, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { billing, unwrap } from "../api/clients";
import { useApi } from "../api/useApi";
import { useSession } from "../auth/SessionContext";
import { Chart } from "../components/Chart";
import { DataTable } from "../components/DataTable";
import { fieldErrors } from "../components/fieldErrors";
import { Loading, ProblemView } from "../components/Status";
import { usePageTitle } from "../components/usePageTitle";
import { downloadCsv, toCsv } from "../lib/csv";
import { utcDate } from "../lib/dates";
import { formatMoney, formatQuantity } from "../lib/money";
import { spendChart, spendCsvHeader, spendCsvRows, spendRows, type Spend, type SpendRow } from "../lib/spendView";
import { readView, writeView, type ViewState } from "../lib/urlState";
import { filters, granularities, groupings, spendViewSpec } from "./spendExplorerView";

type SpendState = ViewState<keyof ReturnType<typeof spendViewSpec>>;
const maxChartSeries = 10;

/** The spend API's view as a form, chart, table and CSV; the form's state is the URL's query string. */
export function SpendExplorerPage() {
  usePageTitle("Spend explorer");
  const { session } = useSession();
  const [params, setParams] = useSearchParams();
  const spec = spendViewSpec(utcDate(new Date()));
  const view = readView(spec, params);
  // A viewer's filter defaults to its own team: the API narrows to its scope and refuses others' teams.
  const team = view.team || (session.role === "viewer" ? session.team ?? "" : "");
  const query = { ...view, team };

  const loaded = useApi(
    (signal) =>
      unwrap(
        billing.GET("/v1/spend", {
          params: {
            query: {
              from: query.from,
              to: query.to,
              group_by: query.group_by,
              granularity: query.granularity,
              tenant: query.tenant || undefined,
              team: query.team || undefined,
              meter: query.meter || undefined,
              model: query.model || undefined,
              gpu_type: query.gpu_type || undefined,
            },
          },
          signal,
        }),
      ),
    [writeView(spec, query).toString()],
  );

  function apply(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const next = { ...view } as SpendState;
    for (const key of Object.keys(spec) as (keyof SpendState)[]) next[key] = String(data.get(key) ?? "").trim();
    setParams(writeView(spec, next));
  }

  const { invalid, error, input } = fieldErrors(loaded.state === "error" ? loaded.problem.errors : {});

  return (
    <>
      <h1>Spend explorer</h1>
      <form className="view-form" onSubmit={apply} key={params.toString()}>
        <label>
          Group by
          <select name="group_by" defaultValue={view.group_by} {...invalid("group_by")}>
            {groupings.map((g) => <option key={g} value={g}>{g}</option>)}
          </select>
          {error("group_by")}
        </label>
        <label>
          Granularity
          <select name="granularity" defaultValue={view.granularity} {...invalid("granularity")}>
            {granularities.map((g) => <option key={g} value={g}>{g}</option>)}
          </select>
          {error("granularity")}
        </label>
        {input("From (UTC)", "from", { type: "date", defaultValue: view.from, required: true })}
        {input("To (UTC, inclusive)", "to", { type: "date", defaultValue: view.to, required: true })}
        {filters.map((name) => (
          <Fragment key={name}>{input(name, name, { type: "text", defaultValue: name === "team" ? team : view[name], spellCheck: false })}</Fragment>
        ))}
        <button type="submit">Show</button>
      </form>
      {loaded.state === "loading" && <Loading what="spend" />}
      {loaded.state === "error" && <ProblemView problem={loaded.problem} />}
      {loaded.state === "ok" && <SpendResult spend={loaded.data} fileName={`spend-${writeView(spec, query).toString() || "month-to-date"}.csv`} />}
    </>
  );
}

function SpendResult({ spend, fileName }: { spend: Spend; fileName: string }) {
  const rows = useMemo(() => spendRows(spend), [spend]);
  const chart = useMemo(() => spendChart(spend, maxChartSeries), [spend]);
  const groups = spend.series.length;
  return (
    <section aria-labelledby="result-heading">
      <h2 id="result-heading">
        {formatMoney(spend.total, spend.currency)} from {spend.from} to {spend.to} (UTC) by {spend.group_by} and {spend.granularity}
      </h2>
      {spend.unpriced_quantity !== null && spend.unpriced_quantity !== undefined && (
        <p className="warning">Unpriced quantity in this view: {formatQuantity(spend.unpriced_quantity)} (no rate card price covers it).</p>
      )}
      {groups > maxChartSeries && <p className="muted">The chart draws the {maxChartSeries} biggest of {groups} groups; the table holds every group.</p>}
      <Chart x={chart.x} series={chart.series} yLabel={spend.currency} />
      <p>
        <button type="button" onClick={() => downloadCsv(fileName.replace(/[^\w.=&-]+/g, "_"), toCsv(spendCsvHeader, spendCsvRows(rows)))}>
          Download CSV of this view
        </button>
      </p>
      <DataTable<SpendRow>
        caption={`Spend by ${spend.group_by} per ${spend.granularity} (UTC), biggest group first`}
        rows={rows}
        rowKey={(r) => `${r.key}\u0000${r.date}`}
        columns={[
          { header: spend.group_by, cell: (r) => r.key },
          { header: spend.granularity === "month" ? "month starting (UTC)" : "date (UTC)", cell: (r) => r.date },
          { header: "quantity", cell: (r) => formatQuantity(r.quantity), numeric: true },
          { header: "cost", cell: (r) => formatMoney(r.cost, spend.currency), numeric: true },
        ]}
      />
    </section>
  );
}
