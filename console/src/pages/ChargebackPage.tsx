import { useMemo, useState, type MouseEvent } from "react";
import { getJson } from "../api/clients";
import type { components } from "../api/generated/billing";
import { problemOf, unreachable, type Problem } from "../api/problem";
import { useApi } from "../api/useApi";
import { useSession } from "../auth/SessionContext";
import { DataTable } from "../components/DataTable";
import { PeriodForm } from "../components/PeriodForm";
import { Loadable, ProblemView } from "../components/Status";
import { usePageTitle } from "../components/usePageTitle";
import { chargebackTree, exportPath, type ExportFormat, type TeamNode } from "../lib/chargebackTree";
import { downloadCsv } from "../lib/csv";
import { formatMoney } from "../lib/money";
import { teamScope } from "../lib/scope";
import { currentPeriod, usePeriod } from "./periodView";

type Statement = components["schemas"]["ChargebackStatementView"];

/** The chargeback statement of a month as the team tree, own and rolled-up, with CSV and FOCUS downloads. */
export function ChargebackPage() {
  usePageTitle("Chargeback");
  const { session } = useSession();
  const team = teamScope(session);
  const [period, setPeriod] = usePeriod(currentPeriod());
  const loaded = useApi(
    // getJson: the 200 is JSON or CSV by ?format=, so openapi-fetch types its data as either; the page asks for the JSON.
    (signal) => getJson<Statement>(`/api/billing/v1/chargeback/${encodeURIComponent(period)}`, { team }, signal),
    [period, team],
  );

  return (
    <>
      <h1>Chargeback</h1>
      <PeriodForm
        period={period}
        onPeriod={setPeriod}
        error={loaded.state === "error" ? loaded.problem.errors.period : undefined}
      />
      <Downloads period={period} team={team} />
      <Loadable loaded={loaded} what="the chargeback statement">
        {(data) => (
          <section aria-labelledby="tree-heading">
            <h2 id="tree-heading">
              Teams of {data.period} (UTC): {formatMoney(data.total, data.currency)}
            </h2>
            <p className="muted">Capacity cost mode: {data.mode ?? "none recorded"}.</p>
            {!data.ledger_current && (
              <p className="warning">The ledger is still catching up with recorded usage: these figures may grow, and the downloads answer 503 until it has.</p>
            )}
            <TeamTree nodes={chargebackTree(data.teams)} currency={data.currency} />
          </section>
        )}
      </Loadable>
    </>
  );
}

function TeamTree({ nodes, currency }: { nodes: TeamNode[]; currency: string }) {
  const inconsistent = useMemo(() => nodes.filter((n) => !n.consistent).map((n) => n.team.team), [nodes]);
  const money = (amount: string) => formatMoney(amount, currency);
  return (
    <>
      {inconsistent.length > 0 && <p className="warning">The rolled-up cost of {inconsistent.join(", ")} differs from its own cost plus its teams'.</p>}
      <DataTable<TeamNode>
        caption="Each team's own cost (its tenants) and rolled up (with every team below it): direct, corrections, idle GPU cost, total"
        rows={nodes}
        rowKey={(n) => n.team.team}
        empty="No teams in this statement."
        columns={[
          { header: "team", cell: (n) => <span className={`indent-${Math.min(n.depth, 4)}`}>{n.team.team}</span> },
          { header: "name", cell: (n) => n.team.name },
          { header: "cost centre", cell: (n) => n.team.cost_center ?? "—" },
          { header: "tenants", cell: (n) => String(n.team.tenants.length), numeric: true },
          { header: "own direct", cell: (n) => money(n.team.own.direct_cost), numeric: true },
          { header: "own corrections", cell: (n) => money(n.team.own.corrections), numeric: true },
          { header: "own idle", cell: (n) => money(n.team.own.idle_cost), numeric: true },
          { header: "own total", cell: (n) => money(n.team.own.total), numeric: true },
          { header: "rolled-up direct", cell: (n) => money(n.team.rolled_up.direct_cost), numeric: true },
          { header: "rolled-up corrections", cell: (n) => money(n.team.rolled_up.corrections), numeric: true },
          { header: "rolled-up idle", cell: (n) => money(n.team.rolled_up.idle_cost), numeric: true },
          { header: "rolled-up total", cell: (n) => money(n.team.rolled_up.total), numeric: true },
        ]}
      />
    </>
  );
}

/**
 * The CSV and FOCUS exports: links through the host. A click fetches the file first, so a 503 while the ledger
 * catches up is shown on the page (with its Retry-After) instead of downloading the problem as a file.
 */
function Downloads({ period, team }: { period: string; team?: string }) {
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState<ExportFormat | null>(null);

  async function download(event: MouseEvent<HTMLAnchorElement>, format: ExportFormat) {
    event.preventDefault();
    setBusy(format);
    setProblem(null);
    try {
      const response = await fetch(exportPath(period, format, team), { headers: { Accept: "text/csv, application/problem+json" } });
      if (response.ok) downloadCsv(`chargeback-${period}${team ? `-${team}` : ""}-${format}.csv`, await response.text());
      else {
        const found = problemOf(response.status, await response.json().catch(() => undefined), response.statusText);
        const retry = response.headers.get("Retry-After");
        setProblem(retry ? { ...found, detail: `${found.detail ?? ""} Retry after ${retry} s.`.trim() } : found);
      }
    } catch {
      setProblem(unreachable());
    }
    setBusy(null);
  }

  return (
    <section aria-labelledby="downloads-heading">
      <h2 id="downloads-heading">Downloads</h2>
      <p className="pager">
        <a href={exportPath(period, "csv", team)} download onClick={(e) => download(e, "csv")} aria-busy={busy === "csv"}>
          Statement CSV
        </a>
        <a href={exportPath(period, "focus", team)} download onClick={(e) => download(e, "focus")} aria-busy={busy === "focus"}>
          FOCUS CSV
        </a>
      </p>
      {problem && <ProblemView problem={problem} />}
    </section>
  );
}
