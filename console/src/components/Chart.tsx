import { useEffect, useRef } from "react";
import uPlot, { type AlignedData, type Options } from "uplot";
import "uplot/dist/uPlot.min.css";

const palette = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#be123c", "#4d7c0f", "#a16207", "#475569"];
export const seriesColour = (index: number): string => palette[index % palette.length];

/** x axis labels as UTC dates: the charts plot seconds at 00:00 UTC. */
const utcDay = (seconds: number): string => new Date(seconds * 1000).toISOString().slice(0, 10);
/** Ticks on whole days only: the points are days, a tick between them would repeat a date. */
const day = 86400;
const dayIncrements = [day, 2 * day, 7 * day, 14 * day, 28 * day, 91 * day, 182 * day, 364 * day];

export type ChartSeries = { label: string; values: (number | null)[]; colour?: string; dash?: number[]; fill?: string };

/**
 * A uPlot time-series chart sized to its container. The numbers it draws are in the data table beside it; the chart
 * itself is hidden from screen readers.
 */
export function Chart({ x, series, bands, height = 260, yLabel }: {
  x: number[];
  series: ChartSeries[];
  bands?: { upper: number; lower: number; fill: string }[];
  height?: number;
  yLabel: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const options: Options = {
      width: Math.max(element.clientWidth, 300),
      height,
      tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), "Etc/UTC"),
      // One day alone gets half a day either side, so its point sits mid-chart (uPlot would stretch its axis to years).
      scales: { x: { time: true, range: (_u, min, max) => (x.length === 1 ? [x[0] - 43200, x[0] + 43200] : [min, max]) } },
      axes: [
        { label: "date (UTC)", space: 90, incrs: dayIncrements, values: (_u, splits) => splits.map(utcDay) },
        { label: yLabel, size: 70 },
      ],
      series: [
        { label: "date (UTC)", value: (_u, v) => (v === null ? "—" : utcDay(v)) },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: s.colour ?? seriesColour(i),
          dash: s.dash,
          fill: s.fill,
          width: 2,
          spanGaps: false,
        })),
      ],
      bands: bands?.map((b) => ({ series: [b.upper, b.lower] as [number, number], fill: b.fill })),
    };
    const data = [x, ...series.map((s) => s.values)] as AlignedData;
    const plot = new uPlot(options, data, element);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(element.clientWidth, 300), height }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [x, series, bands, height, yLabel]);
  return <div className="chart" ref={box} aria-hidden="true" />;
}
