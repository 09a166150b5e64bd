import { useEffect, useState, type DependencyList } from "react";
import { problemFrom, type Problem } from "./problem";

export type Loaded<T> = { state: "loading" } | { state: "error"; problem: Problem } | { state: "ok"; data: T };

/** Loads when the dependencies change (the view's URL state), cancelling the previous request. */
export function useApi<T>(load: (signal: AbortSignal) => Promise<T>, deps: DependencyList): Loaded<T> {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: "loading" });
  useEffect(() => {
    const abort = new AbortController();
    setLoaded({ state: "loading" });
    load(abort.signal).then(
      (data) => abort.signal.aborted || setLoaded({ state: "ok", data }),
      (error: unknown) => {
        if (abort.signal.aborted) return;
        setLoaded({ state: "error", problem: problemFrom(error) });
      },
    );
    return () => abort.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return loaded;
}
