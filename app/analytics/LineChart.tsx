import { useId } from "react";
import { formatDay, formatValue, linearScale, niceTicks, timeTicks } from "~/analytics/chart";
import { DAY_MS } from "~/lib/dates";
import { ScrollRegion } from "~/components/ScrollRegion";

export interface ChartPoint {
  /** ISO 8601 instant. */
  at: string;
  value: number;
}

const WIDTH = 720;
const MARGIN = { top: 24, right: 16, bottom: 28, left: 60 };

/**
 * A line chart drawn on the server as SVG: y ticks with the unit, x dates,
 * the line and its points. Screen readers get a summary and the numbers as a
 * table behind a disclosure.
 */
export function LineChart({ points, title, unit, from, to, height = 260, compact = false }: {
  points: ChartPoint[];
  title: string;
  unit: string;
  from: string;
  to: string;
  height?: number;
  /** Dashboard widgets: no data table, fewer ticks. */
  compact?: boolean;
}) {
  const titleId = useId();
  const start = Date.parse(from);
  const end = Date.parse(to);
  const values = points.map((p) => p.value);
  const ticks = niceTicks(Math.min(...values), Math.max(...values), compact ? 3 : 5);
  const x = linearScale([start, end], [MARGIN.left, WIDTH - MARGIN.right]);
  const y = linearScale([ticks[0], ticks.at(-1)!], [height - MARGIN.bottom, MARGIN.top]);
  const spanDays = (end - start) / DAY_MS;
  const line = points.map((p, i) => `${i === 0 ? "M" : "L"}${x(Date.parse(p.at)).toFixed(1)},${y(p.value).toFixed(1)}`).join(" ");
  const lowest = Math.min(...values);
  const highest = Math.max(...values);
  const summary =
    `${title}: ${points.length} ${points.length === 1 ? "point" : "points"} from ${formatDay(start, 0)} to ${formatDay(end, 0)}, ` +
    `ranging from ${formatValue(lowest)} to ${formatValue(highest)}${unit ? ` ${unit}` : ""}, last ${formatValue(values.at(-1)!)}.`;

  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${WIDTH} ${height}`} role="img" aria-labelledby={titleId} preserveAspectRatio="xMidYMid meet">
        <title id={titleId}>{summary}</title>
        {ticks.map((t) => (
          <g key={t} className="chart-grid">
            <line x1={MARGIN.left} x2={WIDTH - MARGIN.right} y1={y(t)} y2={y(t)} />
            <text x={MARGIN.left - 8} y={y(t)} dy="0.32em" textAnchor="end">
              {formatValue(t)}
            </text>
          </g>
        ))}
        {unit && (
          <text className="chart-unit" x={MARGIN.left - 8} y={10} textAnchor="end">
            {unit}
          </text>
        )}
        {timeTicks(start, end, compact ? 4 : 6).map((t, i, all) => (
          <text key={t} className="chart-axis" x={x(t)} y={height - 8} textAnchor={i === 0 ? "start" : i === all.length - 1 ? "end" : "middle"}>
            {formatDay(t, spanDays)}
          </text>
        ))}
        <path className="chart-line" d={line} />
        {points.length <= 120 &&
          points.map((p) => (
            <circle key={p.at} className="chart-point" cx={x(Date.parse(p.at))} cy={y(p.value)} r={compact ? 2 : 3}>
              <title>{`${formatDay(Date.parse(p.at), 0)}: ${formatValue(p.value)}${unit ? ` ${unit}` : ""}`}</title>
            </circle>
          ))}
      </svg>
      {!compact && (
        <details className="chart-data">
          <summary>Show the numbers</summary>
          <ScrollRegion className="table-wrap" label={`The numbers of ${title}`}>
            <table>
              <caption className="visually-hidden">{title}</caption>
              <thead>
                <tr>
                  <th scope="col">Period starting</th>
                  <th scope="col">Value{unit ? ` (${unit})` : ""}</th>
                </tr>
              </thead>
              <tbody>
                {points.map((p) => (
                  <tr key={p.at}>
                    <td>{p.at.slice(0, 10)}</td>
                    <td>{formatValue(p.value)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
        </details>
      )}
    </figure>
  );
}
