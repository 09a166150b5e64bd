import type { InputHTMLAttributes } from "react";

/**
 * The API's errors by field (problem+json `errors`) on a form's inputs: `invalid(name)` marks an input and points it at
 * its message, `error(name)` is that message, `input(label, name, props)` a labelled input with both. Ids are
 * `<name>-error`, or `<form>-<name>-error` where a page has more than one form.
 */
export function fieldErrors(errors: Readonly<Record<string, string[]>>, form?: string) {
  const id = (name: string) => (form ? `${form}-${name}-error` : `${name}-error`);
  const invalid = (name: string) => (errors[name] ? { "aria-invalid": true as const, "aria-describedby": id(name) } : {});
  const error = (name: string) => errors[name] && <span id={id(name)} className="field-error">{errors[name].join("; ")}</span>;
  const input = (label: string, name: string, props: InputHTMLAttributes<HTMLInputElement> = {}) => (
    <label>
      {label}
      <input name={name} {...props} {...invalid(name)} />
      {error(name)}
    </label>
  );
  return { invalid, error, input };
}
