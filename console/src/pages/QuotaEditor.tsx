import { useState, type FormEvent } from "react";
import { budgets, unwrap } from "../api/clients";
import type { components } from "../api/generated/budgets";
import { problemFrom, type Problem } from "../api/problem";
import { ProblemView } from "../components/Status";
import { inputKey, newLimit, placeErrors, toDrafts, toRequest, type LimitDraft, type LimitField } from "../lib/quotaForm";

type Budget = components["schemas"]["BudgetView"];
type QuotaLimit = components["schemas"]["QuotaLimit"];

/**
 * The admin's quota editor: the tenant's limits as rows, saved with PUT …/quota (which replaces them all). The API's
 * field errors land on the inputs they name; a valid save hands the new budget to the page.
 */
export function QuotaEditor({ tenant, limits, onSaved }: { tenant: string; limits: readonly QuotaLimit[]; onSaved: (budget: Budget) => void }) {
  const [drafts, setDrafts] = useState<LimitDraft[]>(() => toDrafts(limits));
  const [problem, setProblem] = useState<Problem | null>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  const placed = placeErrors(problem?.errors ?? {}, drafts.length);

  const change = (row: number, field: LimitField, value: string) => {
    setSaved(false);
    setDrafts(drafts.map((d, i) => (i === row ? { ...d, [field]: value } : d)));
  };

  async function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setSaving(true);
    setSaved(false);
    try {
      const budget = await unwrap(budgets.PUT("/v1/tenants/{tenant}/quota", { params: { path: { tenant } }, body: toRequest(drafts) }));
      setProblem(null);
      setSaved(true);
      onSaved(budget);
    } catch (error) {
      setProblem(problemFrom(error));
    } finally {
      setSaving(false);
    }
  }

  /** What an input and a select share: its name, value and change, and the API's error for it (aria-invalid, message beside it). */
  const field = (row: number, name: LimitField) => {
    const key = inputKey(row, name);
    const messages = placed.byInput.get(key);
    const id = `quota-${row}-${name}`;
    return {
      props: {
        id,
        name: key,
        value: drafts[row][name],
        onChange: (e: { target: { value: string } }) => change(row, name, e.target.value),
        "aria-invalid": messages ? true : undefined,
        "aria-describedby": messages ? `${id}-error` : undefined,
      },
      error: messages && <span id={`${id}-error`} className="field-error">{messages.join("; ")}</span>,
    };
  };

  const input = (row: number, name: LimitField, label: string, props: Record<string, string> = {}) => {
    const { props: wired, error } = field(row, name);
    return (
      <label>
        {label}
        <input {...wired} spellCheck={false} {...props} />
        {error}
      </label>
    );
  };

  const select = (row: number, name: LimitField, label: string, options: string[]) => {
    const { props: wired, error } = field(row, name);
    return (
      <label>
        {label}
        <select {...wired}>
          {options.map((o) => <option key={o} value={o}>{o}</option>)}
        </select>
        {error}
      </label>
    );
  };

  return (
    <section aria-labelledby="quota-editor-heading">
      <h2 id="quota-editor-heading">Edit limits</h2>
      <p className="hint">Saving replaces every limit of this tenant; the change is recorded in the quota history.</p>
      {problem && (placed.general.length > 0 || placed.byInput.size === 0) && (
        <ProblemView problem={{ ...problem, errors: Object.fromEntries(placed.general) }} />
      )}
      {problem && placed.general.length === 0 && placed.byInput.size > 0 && (
        <p className="field-error" role="alert">{problem.title}</p>
      )}
      <form className="quota-form" onSubmit={save} noValidate>
        {drafts.length === 0 && <p className="muted">No limits: saving removes every limit of this tenant.</p>}
        {drafts.map((_, row) => (
          <fieldset key={row} className="view-form">
            <legend>Limit {row + 1}</legend>
            {input(row, "meter", "meter (or cost_usd)")}
            {select(row, "period", "period", ["day", "month"])}
            {input(row, "limit", "limit", { inputMode: "decimal" })}
            {input(row, "soft_pct", "soft %", { inputMode: "numeric" })}
            {select(row, "enforcement", "enforcement", ["throttle", "alert"])}
            <button type="button" onClick={() => { setSaved(false); setDrafts(drafts.filter((_, i) => i !== row)); setProblem(null); }}>
              Remove
            </button>
          </fieldset>
        ))}
        <p className="view-form">
          <button type="button" onClick={() => { setSaved(false); setDrafts([...drafts, newLimit()]); }}>Add a limit</button>
          <button type="submit" disabled={saving}>{saving ? "Saving…" : "Save limits"}</button>
          {saved && <span role="status">Saved: the budget above shows the new limits.</span>}
        </p>
      </form>
    </section>
  );
}
