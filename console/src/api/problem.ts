/** An API's answer other than success, as the page shows it: RFC 9457 problem+json with its field errors. */
export type Problem = { status: number; title: string; detail?: string; errors: Record<string, string[]> };

export class ProblemError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.title);
  }
}

type ProblemBody = { title?: string | null; detail?: string | null; errors?: Record<string, string[]> };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null;

/** Reads the problem from an answer's parsed body (or its absence): a body that is no problem+json still gets a title. */
export function problemOf(status: number, body: unknown, statusText = ""): Problem {
  const problem: ProblemBody = isObject(body) ? (body as ProblemBody) : {};
  const errors: Record<string, string[]> = {};
  if (isObject(problem.errors))
    for (const [field, messages] of Object.entries(problem.errors))
      errors[field] = Array.isArray(messages) ? messages.map(String) : [String(messages)];
  return {
    status,
    title: problem.title || statusText || (status === 0 ? "The console could not be reached" : `Request failed (${status})`),
    detail: problem.detail ?? undefined,
    errors,
  };
}

/** What a failed call threw, as a problem: the API's (a {@link ProblemError}), or the error's text. */
export const problemFrom = (error: unknown): Problem => (error instanceof ProblemError ? error.problem : { status: 0, title: String(error), errors: {} });

/** A problem in one line, for a cell's tooltip: its title and, when an API answered, the status ("Not found (404)"). */
export const problemTitle = (problem: Problem): string => (problem.status ? `${problem.title} (${problem.status})` : problem.title);

/** A fetch that failed before any answer (network down, host stopped). */
export const unreachable = (): Problem => problemOf(0, undefined);
