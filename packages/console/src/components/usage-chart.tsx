import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { UsageSeries } from '../api/types';
import { Empty } from './status';

const COLOURS = ['#2f7d32', '#c62828', '#ef6c00', '#6a1b9a', '#1565c0', '#00838f', '#5d4037', '#ad1457'];

/** Successes first, then failures by how many there were. */
function outcomesOf(series: UsageSeries): string[] {
  const totals = new Map<string, number>();
  for (const period of series.data) {
    for (const [outcome, count] of Object.entries(period.byOutcome)) totals.set(outcome, (totals.get(outcome) ?? 0) + count);
  }
  return [...totals.entries()].sort(([a, x], [b, y]) => Number(b === 'VALID') - Number(a === 'VALID') || y - x).map(([outcome]) => outcome);
}

/**
 * A usage series as a line per outcome (uPlot: small, canvas). Periods without traffic are absent from the
 * answer, so they are drawn as zero. The numbers are also in a table for screen readers.
 */
export function UsageChart({ series, title }: { series: UsageSeries; title: string }) {
  const container = useRef<HTMLDivElement>(null);
  const outcomes = outcomesOf(series);
  useEffect(() => {
    const element = container.current;
    if (!element || series.data.length === 0) return;
    const step = { minute: 60, hour: 3600, day: 86_400 }[series.granularity];
    const from = Math.floor(Date.parse(series.from) / 1000 / step) * step;
    // `to` is exclusive (the end of the last period).
    const to = Math.ceil(Date.parse(series.to) / 1000 / step) * step;
    const byStart = new Map(series.data.map((period) => [Math.floor(Date.parse(period.start) / 1000), period]));
    const xs: number[] = [];
    for (let t = from; t < to; t += step) xs.push(t);
    const data: uPlot.AlignedData = [xs, ...outcomes.map((outcome) => xs.map((t) => byStart.get(t)?.byOutcome[outcome] ?? 0))];
    const plot = new uPlot(
      {
        width: Math.max(280, element.clientWidth),
        height: 220,
        series: [{}, ...outcomes.map((outcome, i) => ({ label: outcome, stroke: COLOURS[i % COLOURS.length], width: 1.5 }))],
        axes: [{}, { label: 'per ' + series.granularity }],
        legend: { show: true },
      },
      data,
      element,
    );
    const resize = () => plot.setSize({ width: Math.max(280, element.clientWidth), height: 220 });
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      plot.destroy();
    };
  }, [series]);
  if (series.data.length === 0) return <Empty>No traffic between {new Date(series.from).toLocaleString()} and now.</Empty>;
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={container} class="chart-canvas" aria-hidden="true" />
      <table class="visually-hidden">
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col">Period</th>
            {outcomes.map((outcome) => (
              <th scope="col" key={outcome}>
                {outcome}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {series.data.map((period) => (
            <tr key={period.start}>
              <th scope="row">{period.start}</th>
              {outcomes.map((outcome) => (
                <td key={outcome}>{period.byOutcome[outcome] ?? 0}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
