import { unwrap } from "./clients";
import { problemFrom, type Problem } from "./problem";

/** A state-changing call's outcome as the page shows it: the API's answer or its problem (a 409 with its reason). */
export type Attempt<T> = { ok: true; data: T } | { ok: false; problem: Problem };

export async function attempt<T>(call: Parameters<typeof unwrap<T>>[0]): Promise<Attempt<T>> {
  try {
    return { ok: true, data: await unwrap(call) };
  } catch (error) {
    return { ok: false, problem: problemFrom(error) };
  }
}
