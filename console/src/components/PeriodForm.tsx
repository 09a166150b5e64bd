import type { FormEvent } from "react";
import { fieldErrors } from "./fieldErrors";

/** The month a page shows, as a form: submitting writes `?period=` into the URL. */
export function PeriodForm({ period, onPeriod, error }: { period: string; onPeriod: (period: string) => void; error?: string[] }) {
  const { invalid, error: message } = fieldErrors(error ? { period: error } : {});
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
          {...invalid("period")}
        />
        {message("period")}
      </label>
      <button type="submit">Show</button>
    </form>
  );
}
