import { useMemo } from "react";
import type { components } from "../api/generated/billing";
import { forecastBand } from "../lib/forecastBand";
import { formatMoney } from "../lib/money";
import { utcMoment } from "../lib/dates";
import { Chart } from "./Chart";
import { DataTable } from "./DataTable";
import { Figures } from "./Figures";

export type Forecast = components["schemas"]["ForecastView"];
type Day = Forecast["days"][number];

/** Month to date, the month-end forecast with its 80 % band, as figures, a chart and the chart's table. */
export function ForecastPanel({ forecast, currency = "USD", caption }: { forecast: Forecast; currency?: string; caption: string }) {
  const band = useMemo(() => forecastBand(forecast.days), [forecast]);
  const series = useMemo(
    () => [
      { label: "actual (cumulative)", values: band.actual, colour: "#2563eb" },
      { label: "forecast", values: band.forecast, colour: "#9333ea", dash: [6, 4] },
      { label: "80 % high", values: band.high, colour: "#c4b5fd" },
      { label: "80 % low", values: band.low, colour: "#c4b5fd" },
    ],
    [band],
  );
  const bands = useMemo(() => [{ upper: 3, lower: 4, fill: "rgba(147, 51, 234, 0.12)" }], []);
  const interval = `${Math.round(Number(forecast.interval) * 100)} %`;
  return (
    <section aria-labelledby="forecast-heading">
      <h2 id="forecast-heading">Spend and month-end forecast</h2>
      <Figures
        figures={[
          { label: "Month to date", value: formatMoney(forecast.actual, currency) },
          { label: "Month-end forecast", value: forecast.forecast === null ? "none yet" : formatMoney(forecast.forecast, currency) },
          {
            label: `${interval} interval`,
            value:
              forecast.low === null || forecast.high === null
                ? "—"
                : `${formatMoney(forecast.low, currency)} – ${formatMoney(forecast.high, currency)}`,
          },
        ]}
      />
      <p className="explanation">
        {forecast.explanation} <span className="muted">(as of {utcMoment(forecast.as_of)})</span>
      </p>
      <Chart x={band.x} series={series} bands={bands} yLabel={`cumulative ${currency}`} />
      <DataTable<Day>
        caption={`${caption}: cumulative spend per UTC day, with the forecast and its ${interval} interval`}
        rows={forecast.days}
        rowKey={(d) => d.date}
        columns={[
          { header: "date (UTC)", cell: (d) => d.date },
          { header: "actual", cell: (d) => formatMoney(d.actual, currency), numeric: true },
          { header: "forecast", cell: (d) => formatMoney(d.forecast, currency), numeric: true },
          { header: "low", cell: (d) => formatMoney(d.low, currency), numeric: true },
          { header: "high", cell: (d) => formatMoney(d.high, currency), numeric: true },
        ]}
      />
    </section>
  );
}
