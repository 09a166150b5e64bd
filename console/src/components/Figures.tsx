import type { ReactNode } from "react";

export type Figure = { label: string; value: ReactNode };

/** A page's headline figures (totals, counts) as a description list, each label above its value. */
export function Figures({ figures }: { figures: Figure[] }) {
  return (
    <dl className="figures">
      {figures.map((f) => (
        <div key={f.label}>
          <dt>{f.label}</dt>
          <dd>{f.value}</dd>
        </div>
      ))}
    </dl>
  );
}
