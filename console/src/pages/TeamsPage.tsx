import { useEffect, useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { attempt } from "../api/attempt";
import { billing, unwrap } from "../api/clients";
import type { Problem } from "../api/problem";
import { useApi } from "../api/useApi";
import { DataTable } from "../components/DataTable";
import { fieldErrors } from "../components/fieldErrors";
import { Loadable, Loading, ProblemView } from "../components/Status";
import { usePageTitle } from "../components/usePageTitle";
import { useSubmit } from "../components/useSubmit";
import { teamTree, type Team, type TeamRow } from "../lib/teamTree";
import { readView, writeView } from "../lib/urlState";

const spec = { team: { default: "" } };

/**
 * The team tree (parent, cost centre, tenants), editing a team (PUT /v1/teams/{team}) and a tenant's team
 * (PUT /v1/tenants/{tenant}/team). The team being edited is in the URL; the API's errors (a cycle with its path
 * among them) are shown on the inputs they name.
 */
export function TeamsPage() {
  usePageTitle("Teams");
  const [params, setParams] = useSearchParams();
  const view = readView(spec, params);
  const [reads, setReads] = useState(0);
  const loaded = useApi((signal) => unwrap(billing.GET("/v1/teams", { signal })), [reads]);
  // After a save the tree is read again; the last tree (and the forms' messages) stay on screen meanwhile.
  const [shown, setShown] = useState<Team[]>();
  useEffect(() => {
    if (loaded.state === "ok") setShown(loaded.data.teams);
  }, [loaded]);
  const reload = () => setReads(reads + 1);

  return (
    <>
      <h1>Teams</h1>
      {shown === undefined ? (
        <Loadable loaded={loaded} what="the teams">{() => null}</Loadable>
      ) : (
        <>
          {loaded.state === "loading" && <Loading what="the teams again" />}
          {loaded.state === "error" && <ProblemView problem={loaded.problem} />}
          <TeamTable teams={shown} editing={view.team} />
          <TeamForm
            key={`${view.team}/${reads}`}
            teams={shown}
            editing={shown.find((t) => t.team === view.team)}
            onSaved={(saved) => {
              setParams(writeView(spec, { team: saved.team }));
              reload();
            }}
          />
          <TenantTeamForm onSaved={reload} />
        </>
      )}
    </>
  );
}

function TeamTable({ teams, editing }: { teams: Team[]; editing: string }) {
  const rows = useMemo(() => teamTree(teams), [teams]);
  return (
    <DataTable<TeamRow>
      caption="Every team, each below its parent; a team's cost is rolled up into its parent's"
      rows={rows}
      rowKey={(t) => t.team}
      empty="No teams yet: define one below."
      columns={[
        { header: "team", cell: (t) => <span className="tree-cell">{"\u2003".repeat(t.depth)}{t.depth > 0 ? "└ " : ""}{t.team}</span> },
        { header: "path", cell: (t) => t.path.join(" / ") + (t.orphan ? ` (parent ${t.parent} missing)` : "") },
        { header: "name", cell: (t) => t.name },
        { header: "cost centre", cell: (t) => t.cost_center },
        { header: "parent", cell: (t) => t.parent ?? "—" },
        { header: "tenants", cell: (t) => (t.tenants.length === 0 ? "—" : t.tenants.join(", ")) },
        {
          header: "edit",
          cell: (t) => (t.team === editing ? "editing" : <Link to={`?${writeView(spec, { team: t.team })}`} aria-label={`Edit team ${t.team}`}>Edit</Link>),
        },
      ]}
    />
  );
}

/** The API's errors by field: on an input when one shows that field, else in the problem above the form. */
function formProblem(problem: Problem | null, inputs: readonly string[], form: string) {
  const errors = problem?.errors ?? {};
  const general = Object.fromEntries(Object.entries(errors).filter(([field]) => !inputs.includes(field)));
  const summary = problem && <ProblemView problem={{ ...problem, errors: general }} />;
  return { ...fieldErrors(errors, form), summary };
}

const teamInputs = ["team", "name", "cost_center", "parent"] as const;
const editInputs = ["name", "cost_center", "parent"] as const;

function TeamForm({ teams, editing, onSaved }: { teams: Team[]; editing?: Team; onSaved: (team: Team) => void }) {
  const [problem, setProblem] = useState<Problem | null>(null);
  const { input, summary } = formProblem(problem, editing ? editInputs : teamInputs, "team-form");

  const [saving, save] = useSubmit(async (data) => {
    const text = (name: string) => String(data.get(name) ?? "").trim();
    const team = editing?.team ?? text("team");
    const answer = await attempt(
      billing.PUT("/v1/teams/{team}", {
        params: { path: { team } },
        body: { name: text("name"), cost_center: text("cost_center"), parent: text("parent") || null },
      }),
    );
    setProblem(answer.ok ? null : answer.problem);
    if (answer.ok) onSaved(answer.data);
  });

  return (
    <section aria-labelledby="team-form-heading">
      <h2 id="team-form-heading">{editing ? `Edit team ${editing.team}` : "Define a team"}</h2>
      {editing && <p className="hint"><Link to="?">Define a new team instead</Link></p>}
      {summary}
      <form className="view-form" onSubmit={save} noValidate>
        {!editing && input("Team id", "team", { required: true, spellCheck: false })}
        {input("Name", "name", { defaultValue: editing?.name, required: true })}
        {input("Cost centre", "cost_center", { defaultValue: editing?.cost_center, required: true, spellCheck: false })}
        {input("Parent team (empty: a root)", "parent", { list: "team-ids", defaultValue: editing?.parent ?? "", spellCheck: false })}
        <TeamIds teams={teams} />
        <button type="submit" disabled={saving}>{saving ? "Saving…" : "Save team"}</button>
      </form>
    </section>
  );
}

const tenantInputs = ["tenant", "team"] as const;

function TenantTeamForm({ onSaved }: { onSaved: () => void }) {
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const { input, summary } = formProblem(problem, tenantInputs, "tenant-team");

  const [saving, save] = useSubmit(async (data) => {
    const tenant = String(data.get("tenant") ?? "").trim();
    const team = String(data.get("team") ?? "").trim();
    setDone(null);
    const answer = await attempt(billing.PUT("/v1/tenants/{tenant}/team", { params: { path: { tenant } }, body: { team } }));
    setProblem(answer.ok ? null : answer.problem);
    if (!answer.ok) return;
    setDone(`Tenant ${answer.data.tenant} is now charged to team ${answer.data.team}.`);
    onSaved();
  });

  return (
    <section aria-labelledby="tenant-team-heading">
      <h2 id="tenant-team-heading">A tenant's team</h2>
      <p className="hint">A tenant's cost is charged to one team from now on; earlier months keep the team they had.</p>
      {summary}
      <form className="view-form" onSubmit={save} noValidate>
        {input("Tenant", "tenant", { required: true, spellCheck: false })}
        {input("Team", "team", { list: "team-ids", required: true, spellCheck: false })}
        <button type="submit" disabled={saving}>{saving ? "Saving…" : "Set the tenant's team"}</button>
        {done && <span role="status">{done}</span>}
      </form>
    </section>
  );
}

/** The team ids offered while typing a parent or a tenant's team (any text may still be sent: the API judges it). */
function TeamIds({ teams }: { teams: Team[] }) {
  return (
    <datalist id="team-ids">
      {teams.map((t) => <option key={t.team} value={t.team}>{t.name}</option>)}
    </datalist>
  );
}
