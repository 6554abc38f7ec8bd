import type { Child } from 'hono/jsx';
import { formatDay, formatInteger } from '../i18n/index.ts';

/**
 * Charts drawn on the server as SVG: they show without JavaScript, carry a title and a text
 * alternative, and take their colours from the stylesheet (classes, never inline styles, which the
 * Content-Security-Policy forbids).
 */

/**
 * The plot is an SVG stretched to its box (`preserveAspectRatio="none"`, strokes that do not
 * scale), and the axis labels are HTML beside it: text stays legible from 360 px to a wide screen.
 */
const PLOT_HEIGHT = 100;

let chartIds = 0;
function chartId(): string {
  chartIds = (chartIds + 1) % 1_000_000;
  return `chart-${chartIds}`;
}

function ChartFrame(props: {
  id: string;
  title: string;
  summary: string;
  high: number;
  low: number;
  days: string[];
  children: Child;
  viewWidth: number;
}) {
  const { days } = props;
  const first = days[0];
  const middle = days[Math.floor((days.length - 1) / 2)];
  const last = days[days.length - 1];
  return (
    <figure class="chart" aria-labelledby={`${props.id}-c`}>
      <figcaption id={`${props.id}-c`}>{props.title}</figcaption>
      <div class="plot">
        <div class="y-axis" aria-hidden="true">
          <span>{formatInteger(props.high)}</span>
          <span>{formatInteger(props.low)}</span>
        </div>
        <svg
          viewBox={`0 0 ${props.viewWidth} ${PLOT_HEIGHT}`}
          preserveAspectRatio="none"
          role="img"
          aria-labelledby={`${props.id}-t ${props.id}-d`}
        >
          <title id={`${props.id}-t`}>{props.title}</title>
          <desc id={`${props.id}-d`}>{props.summary}</desc>
          {props.children}
        </svg>
      </div>
      <div class="x-axis" aria-hidden="true">
        <span>{first ? formatDay(first) : ''}</span>
        <span>{middle && days.length > 2 ? formatDay(middle) : ''}</span>
        <span>{last && days.length > 1 ? formatDay(last) : ''}</span>
      </div>
    </figure>
  );
}

/** A line over days (members per day), with the first and last day and the range labelled. */
export function LineChart(props: {
  title: string;
  summary: string;
  points: { day: string; value: number }[];
}) {
  const { points } = props;
  const id = chartId();
  const values = points.map((p) => p.value);
  const min = Math.min(...values);
  const max = Math.max(...values);
  const low = min === max ? Math.max(0, min - 1) : min;
  const high = min === max ? max + 1 : max;
  const width = Math.max(1, points.length - 1) * 10;
  const x = (i: number) => i * 10;
  // A little room above and below, so the line never sits on the edge.
  const y = (v: number) => 95 - ((v - low) / (high - low)) * 90;
  const line = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(i)},${y(p.value).toFixed(2)}`).join('');
  const area = `${line}L${x(points.length - 1)},${PLOT_HEIGHT}L0,${PLOT_HEIGHT}Z`;
  return (
    <ChartFrame
      id={id}
      title={props.title}
      summary={props.summary}
      high={high}
      low={low}
      days={points.map((p) => p.day)}
      viewWidth={width}
    >
      <path class="area" d={area} />
      <path class="line" d={line} vector-effect="non-scaling-stroke" />
    </ChartFrame>
  );
}

/** A column per day (counts per day), each with its own tooltip. */
export function ColumnChart(props: {
  title: string;
  summary: string;
  columns: { day: string; value: number }[];
}) {
  const { columns } = props;
  const id = chartId();
  const max = Math.max(1, ...columns.map((c) => c.value));
  return (
    <ChartFrame
      id={id}
      title={props.title}
      summary={props.summary}
      high={max}
      low={0}
      days={columns.map((c) => c.day)}
      viewWidth={Math.max(1, columns.length) * 10}
    >
      <line
        class="axis"
        x1="0"
        x2={columns.length * 10}
        y1={PLOT_HEIGHT}
        y2={PLOT_HEIGHT}
        vector-effect="non-scaling-stroke"
      />
      {columns.map((column, i) => {
        const height = (column.value / max) * PLOT_HEIGHT;
        return (
          <rect
            class="column"
            x={i * 10 + 1.5}
            y={(PLOT_HEIGHT - height).toFixed(2)}
            width="7"
            height={height.toFixed(2)}
          >
            <title>{`${formatDay(column.day)}: ${formatInteger(column.value)}`}</title>
          </rect>
        );
      })}
    </ChartFrame>
  );
}

/** Labelled horizontal bars (servers by status or software), as a list a screen reader reads as text. */
export function BarList(props: { title: string; bars: { label: string; value: number; note?: string }[] }) {
  const max = Math.max(1, ...props.bars.map((b) => b.value));
  return (
    <figure class="bars">
      <figcaption>{props.title}</figcaption>
      <ul>
        {props.bars.map((bar) => (
          <li>
            <span class="bar-label">{bar.label}</span>
            <svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">
              <rect width={((bar.value / max) * 100).toFixed(2)} height="10" />
            </svg>
            <span class="bar-value">
              {formatInteger(bar.value)}
              {bar.note ? <span class="note"> {bar.note}</span> : null}
            </span>
          </li>
        ))}
      </ul>
    </figure>
  );
}

/** A square per day, coloured by the share of checks answered that day. */
export function UptimeStrip(props: {
  title: string;
  days: { day: string; share: number | null; label: string }[];
}) {
  const id = chartId();
  const size = 14;
  const gap = 3;
  const width = props.days.length * (size + gap);
  return (
    <svg
      class="uptime"
      viewBox={`0 0 ${width} ${size}`}
      role="img"
      aria-labelledby={`${id}-t`}
      width={width}
      height={size}
    >
      <title id={`${id}-t`}>{props.title}</title>
      {props.days.map((day, i) => (
        <rect
          class={`day ${day.share === null ? 'none' : day.share >= 0.99 ? 'good' : day.share >= 0.9 ? 'fair' : 'poor'}`}
          x={i * (size + gap)}
          y="0"
          width={size}
          height={size}
          rx="2"
        >
          <title>{day.label}</title>
        </rect>
      ))}
    </svg>
  );
}
