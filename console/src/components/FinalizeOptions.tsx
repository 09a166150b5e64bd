/** Finalize's two choices, as checkboxes of the form that finalizes (one invoice, or every draft of a month). */
export function FinalizeOptions() {
  return (
    <>
      <label className="check">
        <input type="checkbox" name="force" /> force (the month has not ended)
      </label>
      <label className="check">
        <input type="checkbox" name="allow_unpriced" /> allow unpriced usage
      </label>
    </>
  );
}

/** The body of `POST /v1/invoices/{tenant}/{period}/finalize` from a form holding <FinalizeOptions />. */
export function finalizeBody(data: FormData) {
  return { force: data.get("force") === "on", allow_unpriced: data.get("allow_unpriced") === "on" };
}
