import { useState, type FormEvent } from "react";

/** A form's submit handler, busy while `run` (given the form's data) is under way, so that its button can say so. */
export function useSubmit(run: (data: FormData) => Promise<void>): [busy: boolean, submit: (event: FormEvent<HTMLFormElement>) => Promise<void>] {
  const [busy, setBusy] = useState(false);
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    setBusy(true);
    try {
      await run(data);
    } finally {
      setBusy(false);
    }
  }
  return [busy, submit];
}
