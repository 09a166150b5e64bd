import { Link } from "react-router";
import { billing, unwrap } from "../api/clients";
import type { components } from "../api/generated/billing";
import { useApi } from "../api/useApi";
import { DataTable } from "../components/DataTable";
import { Figures } from "../components/Figures";
import { PeriodForm } from "../components/PeriodForm";
import { Loadable } from "../components/Status";
import { usePageTitle } from "../components/usePageTitle";
import { formatMoney } from "../lib/money";
import { currentPeriod, usePeriod } from "./periodView";

type Summary = components["schemas"]["InvoiceSummaryView"];

/** A period's invoices (a viewer's: of its scope, narrowed by the API) with their status and total. */
export function InvoicesPage() {
  usePageTitle("Invoices");
  const [period, setPeriod] = usePeriod(currentPeriod());
  const loaded = useApi((signal) => unwrap(billing.GET("/v1/invoices", { params: { query: { period } }, signal })), [period]);

  return (
    <>
      <h1>Invoices</h1>
      <PeriodForm
        period={period}
        onPeriod={setPeriod}
        error={loaded.state === "error" ? loaded.problem.errors.period : undefined}
      />
      <Loadable loaded={loaded} what="the invoices">
        {(data) => {
          const drafts = data.invoices.filter((i) => i.status === "draft").length;
          return (
            <section aria-labelledby="invoices-heading">
              <h2 id="invoices-heading">Invoices of {data.period} (UTC)</h2>
              <Figures
                figures={[
                  { label: "Total", value: formatMoney(data.total) },
                  { label: "Invoices", value: data.invoices.length.toLocaleString("en-US") },
                  { label: "Draft", value: drafts.toLocaleString("en-US") },
                  { label: "Finalized", value: (data.invoices.length - drafts).toLocaleString("en-US") },
                ]}
              />
              <DataTable<Summary>
                caption={`Every invoice of ${data.period}, by tenant`}
                rows={data.invoices}
                rowKey={(i) => i.tenant}
                empty="No invoices in this month."
                columns={[
                  { header: "tenant", cell: (i) => <Link to={`/invoices/${encodeURIComponent(i.tenant)}/${data.period}`}>{i.tenant}</Link> },
                  { header: "team", cell: (i) => i.team ?? "—" },
                  { header: "status", cell: (i) => <span className={`status status-${i.status}`}>{i.status}</span> },
                  { header: "total", cell: (i) => formatMoney(i.total), numeric: true },
                ]}
              />
            </section>
          );
        }}
      </Loadable>
    </>
  );
}
