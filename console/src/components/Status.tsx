import type { ReactNode } from "react";
import type { Problem } from "../api/problem";
import type { Loaded } from "../api/useApi";

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

/** The API's problem: its title, detail and every field error by field name. */
export function ProblemView({ problem }: { problem: Problem }) {
  const fields = Object.entries(problem.errors);
  return (
    <div className="problem" role="alert">
      <p className="problem-title">
        {problem.title}
        {problem.status > 0 && <span className="problem-status"> ({problem.status})</span>}
      </p>
      {problem.detail && <p>{problem.detail}</p>}
      {fields.length > 0 && (
        <ul>
          {fields.map(([field, messages]) => (
            <li key={field}>
              <code>{field}</code>: {messages.join("; ")}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A part of a page that loads on its own: its loading state, its problem, or its content. */
export function Loadable<T>({ loaded, what, children }: { loaded: Loaded<T>; what: string; children: (data: T) => ReactNode }) {
  if (loaded.state === "loading") return <Loading what={what} />;
  if (loaded.state === "error") return <ProblemView problem={loaded.problem} />;
  return children(loaded.data);
}
