import { data, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, useLoaderData, useNavigation } from "@remix-run/react";
import type { ReactNode } from "react";
import { FieldError } from "~/components/FieldError";
import { LineChart } from "~/analytics/LineChart";
import { requireTenant, requesterOf } from "~/auth/access.server";
import { formatValue } from "~/analytics/chart";
import { getDb } from "~/lib/db.server";
import { listMetrics, metricTimeseries } from "~/analytics/metric-points.server";
import { DAY_MS as DAY, isCalendarDate, utcInstant } from "~/lib/dates";

export const meta: MetaFunction = () => [{ title: "Metrics · Exportal" }];

const RANGES = { "7d": ["Last 7 days", 7], "30d": ["Last 30 days", 30], "90d": ["Last 90 days", 90], "12m": ["Last 12 months", 365], custom: ["Custom dates", 0] } as const;
const INTERVALS = { auto: "Automatic", day: "Day", week: "Week", month: "Month" } as const;
type Interval = keyof typeof INTERVALS;
const AGGREGATES = { avg: "Average", sum: "Sum", min: "Minimum", max: "Maximum" } as const;
type Aggregate = keyof typeof AGGREGATES;
const MAX_DAYS = 3660;

const isOneOf = <T extends object>(value: string, options: T): value is Extract<keyof T, string> => Object.hasOwn(options, value);

export async function loader({ request, params }: LoaderFunctionArgs) {
  const ctx = await requireTenant(request, params, "metrics.read");
  const requester = requesterOf(ctx);
  const metrics = await listMetrics(getDb(), requester);
  const url = new URL(request.url);
  const get = (name: string) => url.searchParams.get(name)?.trim() ?? "";
  // What the reader asked for, kept as typed so a refused choice is shown back.
  const values = { metric: get("metric") || (metrics[0]?.metricId ?? ""), range: get("range") || "90d", from: get("from"), to: get("to"), interval: get("interval") || "auto", aggregate: get("aggregate") };
  const errors: Record<string, string> = {};

  const metric = metrics.find((m) => m.metricId === values.metric);
  if (metrics.length > 0 && !metric) errors.metric = "Choose a metric from the list.";
  if (!isOneOf(values.range, RANGES)) errors.range = "Choose a range from the list.";
  if (!isOneOf(values.interval, INTERVALS)) errors.interval = "Choose day, week, month or automatic.";
  if (values.aggregate && !isOneOf(values.aggregate, AGGREGATES)) errors.aggregate = "Choose average, sum, minimum or maximum.";

  // Days are whole UTC days; To is included, so the range ends at the next midnight.
  const tomorrow = Math.ceil((Date.now() + 1) / DAY) * DAY;
  let start = 0;
  let end = tomorrow;
  if (values.range === "custom") {
    if (!isCalendarDate(values.from)) errors.from = "Enter From as a date (YYYY-MM-DD).";
    if (!isCalendarDate(values.to)) errors.to = "Enter To as a date (YYYY-MM-DD).";
    if (!errors.from && !errors.to) {
      start = utcInstant(values.from).getTime();
      end = utcInstant(values.to).getTime() + DAY;
      if (end <= start) errors.to = "To must be on or after From.";
      else if (end - start > MAX_DAYS * DAY) errors.to = "Choose at most 10 years.";
    }
  } else if (isOneOf(values.range, RANGES)) {
    start = end - RANGES[values.range][1] * DAY;
  }

  const spanDays = (end - start) / DAY;
  const chosen = values.interval as Interval;
  const interval: Exclude<Interval, "auto"> = chosen === "day" || chosen === "week" || chosen === "month" ? chosen : spanDays <= 92 ? "day" : spanDays <= 400 ? "week" : "month";
  const aggregate: Aggregate = isOneOf(values.aggregate, AGGREGATES) ? values.aggregate : metric?.unit === "count" ? "sum" : "avg";
  const base = { tenant: ctx.tenant, metrics, values, aggregate, errors };

  if (Object.keys(errors).length > 0) return data({ ...base, chart: null }, { status: 400 });
  if (!metric) return { ...base, chart: null };
  // At most 10 years by day: well inside the timeseries' bucket limit, so it cannot refuse the range.
  const series = await metricTimeseries(getDb(), requester, metric.metricId, { startDate: new Date(start).toISOString(), endDate: new Date(end).toISOString(), interval });
  const points = series.points.map((p) => ({ at: p.bucket, value: p[aggregate], count: p.count }));
  return { ...base, chart: { metric, interval, from: new Date(start).toISOString(), to: new Date(end).toISOString(), points } };
}

const options = (entries: [value: string, label: string][]) =>
  entries.map(([value, label]) => (
    <option key={value} value={value}>
      {label}
    </option>
  ));

/** A labelled control of the chart form with its error beside it; `children` draws the control with the props given. */
function Field({ name, label, error, children }: { name: string; label: string; error?: string; children: (control: Record<string, string | boolean>) => ReactNode }) {
  const id = `metrics-${name}`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, name, ...(error ? { "aria-invalid": true, "aria-describedby": `${id}-error` } : {}) })}
      <FieldError id={`${id}-error`} message={error} />
    </div>
  );
}

export default function Metrics() {
  const { tenant, metrics, values, aggregate, errors, chart } = useLoaderData<typeof loader>();
  const loading = useNavigation().state === "loading";
  if (metrics.length === 0) {
    return (
      <>
        <h1>Metrics</h1>
        <div className="empty-state">
          <h2>No metrics yet</h2>
          <p className="muted">Metrics appear here once an integration syncs or a program pushes custom metrics to {tenant.name} through the API.</p>
        </div>
      </>
    );
  }
  const chartValues = chart?.points.map((p) => p.value) ?? [];
  return (
    <>
      <h1>Metrics</h1>
      <p className="muted">Metrics of {tenant.name} from its integrations and custom pushes, aggregated per period in the database.</p>

      <Form method="get" className="card metrics-form" aria-label="Chart options">
        <Field name="metric" label="Metric" error={errors.metric}>
          {(control) => (
            <select {...control} defaultValue={values.metric}>
              {options(metrics.map((m) => [m.metricId, `${m.name} (${m.service}${m.unit ? `, ${m.unit}` : ""})`]))}
            </select>
          )}
        </Field>
        <Field name="range" label="Range" error={errors.range}>
          {(control) => <select {...control} defaultValue={values.range}>{options(Object.entries(RANGES).map(([value, [label]]) => [value, label]))}</select>}
        </Field>
        <Field name="from" label="From" error={errors.from}>
          {(control) => <input {...control} type="date" defaultValue={values.from} />}
        </Field>
        <Field name="to" label="To (included)" error={errors.to}>
          {(control) => <input {...control} type="date" defaultValue={values.to} />}
        </Field>
        <Field name="interval" label="Per" error={errors.interval}>
          {(control) => <select {...control} defaultValue={values.interval}>{options(Object.entries(INTERVALS))}</select>}
        </Field>
        <Field name="aggregate" label="Value" error={errors.aggregate}>
          {(control) => <select {...control} defaultValue={aggregate}>{options(Object.entries(AGGREGATES))}</select>}
        </Field>
        <div className="field">
          <span aria-hidden="true">&nbsp;</span>
          <button type="submit" className="button primary" disabled={loading}>
            {loading ? "Loading…" : "Show"}
          </button>
        </div>
        <p className="muted small metrics-hint">From and To apply when the range is “Custom dates”.</p>
      </Form>

      {chart && (
        <section aria-labelledby="chart-title" className="card metric-chart" aria-busy={loading}>
          <h2 id="chart-title">
            {chart.metric.name} <span className="muted small">{chart.metric.metricId}</span>
          </h2>
          {chart.points.length === 0 ? (
            <div className="empty-state">
              <p>No points of {chart.metric.name} in this range.</p>
              <p className="muted">It has points from {chart.metric.firstAt.toISOString().slice(0, 10)} to {chart.metric.lastAt.toISOString().slice(0, 10)}.</p>
            </div>
          ) : (
            <>
              <dl className="stats">
                <div>
                  <dt>Latest {chart.interval}</dt>
                  <dd>{formatValue(chartValues.at(-1)!)} {chart.metric.unit}</dd>
                </div>
                <div>
                  <dt>Lowest</dt>
                  <dd>{formatValue(Math.min(...chartValues))} {chart.metric.unit}</dd>
                </div>
                <div>
                  <dt>Highest</dt>
                  <dd>{formatValue(Math.max(...chartValues))} {chart.metric.unit}</dd>
                </div>
                <div>
                  <dt>Points</dt>
                  <dd>{chart.points.reduce((n, p) => n + p.count, 0).toLocaleString("en-US")}</dd>
                </div>
              </dl>
              <LineChart
                points={chart.points}
                title={`${chart.metric.name}, ${AGGREGATES[aggregate].toLowerCase()} per ${chart.interval}`}
                unit={chart.metric.unit}
                from={chart.from}
                to={chart.to}
              />
            </>
          )}
        </section>
      )}
    </>
  );
}
