import type { Problem } from "../api/problem";

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
