import type { FormEvent } from "react";

/** The month a page shows, as a form: submitting writes `?period=` into the URL. */
export function PeriodForm({ period, onPeriod, error }: { period: string; onPeriod: (period: string) => void; error?: string[] }) {
  function apply(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    onPeriod(String(new FormData(event.currentTarget).get("period") ?? "").trim());
  }
  return (
    <form className="view-form" onSubmit={apply} key={period}>
      <label>
        Month (UTC)
        <input
          type="month"
          name="period"
          defaultValue={period}
          required
          pattern="\d{4}-\d{2}"
          {...(error ? { "aria-invalid": true as const, "aria-describedby": "period-error" } : {})}
        />
        {error && <span id="period-error" className="field-error">{error.join("; ")}</span>}
      </label>
      <button type="submit">Show</button>
    </form>
  );
}
