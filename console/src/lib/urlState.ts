/**
 * A view's state kept in the URL's query string, so every view deep-links: each field has a default (left out of the
 * URL) and a rule for what a value may be (a value breaking it reads as the default).
 */
export type FieldSpec = { default: string; allowed?: readonly string[]; valid?: (value: string) => boolean };
export type ViewSpec<K extends string> = Record<K, FieldSpec>;
export type ViewState<K extends string> = Record<K, string>;

export function readView<K extends string>(spec: ViewSpec<K>, params: URLSearchParams): ViewState<K> {
  const state = {} as ViewState<K>;
  for (const key of Object.keys(spec) as K[]) {
    const field = spec[key];
    const value = params.get(key)?.trim() ?? "";
    const ok = value !== "" && (!field.allowed || field.allowed.includes(value)) && (!field.valid || field.valid(value));
    state[key] = ok ? value : field.default;
  }
  return state;
}

/** The query string of a state: fields at their default are left out, the rest in the spec's order. */
export function writeView<K extends string>(spec: ViewSpec<K>, state: ViewState<K>): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of Object.keys(spec) as K[]) {
    const value = state[key];
    if (value !== undefined && value !== "" && value !== spec[key].default) params.set(key, value);
  }
  return params;
}
