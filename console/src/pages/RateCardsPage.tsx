import { useMemo, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { getJson } from "../api/clients";
import type { components } from "../api/generated/billing";
import { useApi } from "../api/useApi";
import { DataTable, type Column } from "../components/DataTable";
import { Loadable } from "../components/Status";
import { usePageTitle } from "../components/usePageTitle";
import { utcMoment } from "../lib/dates";
import { formatMoney } from "../lib/money";
import { diffRateCards, priceKey, priceUnit, type Price, type PriceChange, type PriceFor } from "../lib/rateCardDiff";
import { readView, writeView } from "../lib/urlState";

type Version = components["schemas"]["RateCardVersionView"];
/** GET /v1/rate-card without `on`, as an admin: every version (its document declares only the one-day answer). */
type Versions = { versions: Version[] };

const whole = (text: string) => /^\d{1,9}$/.test(text);
const spec = { version: { default: "", valid: whole }, compare: { default: "", valid: whole } };

/** What a price is for, as one cell: its meter and its model or GPU type. */
const priceFor = (p: PriceFor) => p.model ?? p.gpu_type ?? "—";
/** The columns that say which price a row is: its meter, and its model or GPU type. */
const itemColumns: Column<PriceFor>[] = [
  { header: "meter", cell: (p) => p.meter },
  { header: "model or GPU type", cell: priceFor },
];

/** Prices of one version (added or removed by a change), in that version's currency. */
function PriceList({ caption, rows, empty, currency }: { caption: string; rows: Price[]; empty: string; currency: string }) {
  return (
    <DataTable<Price>
      caption={caption}
      rows={rows}
      rowKey={priceKey}
      empty={empty}
      columns={[...itemColumns, { header: "price", cell: (p) => formatMoney(p.price, currency), numeric: true }]}
    />
  );
}

/** Every rate-card version, one version's prices, and what changed between two versions (view state in the URL). */
export function RateCardsPage() {
  usePageTitle("Rate cards");
  const [params, setParams] = useSearchParams();
  const view = readView(spec, params);
  const loaded = useApi((signal) => getJson<Versions>("/api/billing/v1/rate-card", {}, signal), []);

  return (
    <>
      <h1>Rate cards</h1>
      <Loadable loaded={loaded} what="the rate-card versions">
        {(data) => <RateCards versions={data.versions} view={view} onView={(next) => setParams(writeView(spec, next))} />}
      </Loadable>
    </>
  );
}

function RateCards({ versions, view, onView }: {
  versions: Version[];
  view: { version: string; compare: string };
  onView: (next: { version: string; compare: string }) => void;
}) {
  const ordered = useMemo(() => [...versions].sort((a, b) => Number(b.version) - Number(a.version)), [versions]);
  const find = (number: string) => ordered.find((v) => String(v.version) === number);
  // By default the newest version, compared with the one before it.
  const shown = find(view.version) ?? ordered[0];
  const earlier = shown ? ordered.find((v) => Number(v.version) < Number(shown.version)) : undefined;
  const against = find(view.compare) ?? earlier;
  const diff = useMemo(() => (shown && against ? diffRateCards(against.prices, shown.prices) : undefined), [shown, against]);

  function choose(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    onView({ version: String(data.get("version") ?? ""), compare: String(data.get("compare") ?? "") });
  }

  if (!shown) return <p>No rate card yet: add a version with PUT /v1/rate-card; until then usage is unpriced.</p>;
  const link = (v: Version) => `?${writeView(spec, { version: String(v.version), compare: "" })}`;
  return (
    <>
      <DataTable<Version>
        caption="Every version, newest first; each replaces the whole price list from its effective day (UTC)"
        rows={ordered}
        rowKey={(v) => String(v.version)}
        columns={[
          { header: "version", cell: (v) => (v === shown ? <strong>{v.version} (shown)</strong> : <Link to={link(v)}>{v.version}</Link>), numeric: true },
          { header: "effective from (UTC)", cell: (v) => v.effective_from },
          { header: "currency", cell: (v) => v.currency },
          { header: "prices", cell: (v) => String(v.prices.length), numeric: true },
          { header: "added (UTC)", cell: (v) => utcMoment(v.added_at) },
        ]}
      />

      <section aria-labelledby="prices-heading">
        <h2 id="prices-heading">Prices of version {shown.version} (from {shown.effective_from}, UTC)</h2>
        <DataTable<Price>
          caption={`Version ${shown.version}'s prices in ${shown.currency}`}
          rows={[...shown.prices].sort((a, b) => (priceKey(a) < priceKey(b) ? -1 : 1))}
          rowKey={priceKey}
          empty="This version has no prices."
          columns={[
            ...itemColumns,
            { header: "price", cell: (p) => formatMoney(p.price, shown.currency), numeric: true },
            { header: "unit", cell: (p) => priceUnit(p.meter) },
          ]}
        />
      </section>

      <section aria-labelledby="diff-heading">
        <h2 id="diff-heading">Changes between versions</h2>
        <form className="view-form" onSubmit={choose} key={`${shown.version}/${against?.version ?? ""}`}>
          <label>
            From version
            <select name="compare" defaultValue={against ? String(against.version) : ""}>
              {ordered.map((v) => <option key={v.version} value={String(v.version)}>{v.version} ({v.effective_from})</option>)}
            </select>
          </label>
          <label>
            To version
            <select name="version" defaultValue={String(shown.version)}>
              {ordered.map((v) => <option key={v.version} value={String(v.version)}>{v.version} ({v.effective_from})</option>)}
            </select>
          </label>
          <button type="submit">Compare</button>
        </form>
        {!against || !diff ? (
          <p>Version {shown.version} is the first version: there is nothing before it to compare with.</p>
        ) : (
          <>
            <p>
              From version {against.version} to version {shown.version}: {diff.added.length} added, {diff.removed.length} removed,{" "}
              {diff.changed.length} changed, {diff.unchanged} unchanged.
            </p>
            <PriceList
              caption={`Prices in version ${shown.version} and not in version ${against.version} (added)`}
              rows={diff.added}
              empty="None added."
              currency={shown.currency}
            />
            <PriceList
              caption={`Prices in version ${against.version} and not in version ${shown.version} (removed)`}
              rows={diff.removed}
              empty="None removed."
              currency={against.currency}
            />
            <DataTable<PriceChange>
              caption={`Prices changed from version ${against.version} to version ${shown.version}`}
              rows={diff.changed}
              rowKey={priceKey}
              empty="None changed."
              columns={[
                ...itemColumns,
                { header: `version ${against.version}`, cell: (c) => formatMoney(c.before, against.currency), numeric: true },
                { header: `version ${shown.version}`, cell: (c) => formatMoney(c.after, shown.currency), numeric: true },
              ]}
            />
          </>
        )}
      </section>
    </>
  );
}
