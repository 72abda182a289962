/**
 * The timeline picture of a drill or a rehearsal: phases as a Gantt and, when given, calls per
 * interval with the failed ones marked, as one standalone SVG. Pure: a string from data.
 *
 * A small renderer rather than a charting library: the charts are two fixed shapes (bars on a time
 * axis, a stacked histogram), the output must be byte-stable for the same input (reports are
 * committed and compared in tests), and run offline in the CLIs without a DOM (d3 needs jsdom,
 * Vega pulls in a canvas or a headless renderer: tens of MB for a few rectangles).
 */

export type BarStatus = "succeeded" | "failed" | "open" | "not-run";

/** One Gantt row: a phase. */
export interface GanttBar {
  readonly label: string;
  /** Milliseconds on the chart's clock; null: not run. */
  readonly startMs: number | null;
  /** null while open: the bar runs to the chart's end. */
  readonly endMs: number | null;
  readonly status: BarStatus;
  /** A short note after the bar (its duration, "not run"). */
  readonly note: string;
}

/** One interval of traffic. */
export interface CallBin {
  readonly startMs: number;
  readonly calls: number;
  readonly failed: number;
}

export interface TimelineChart {
  readonly title: string;
  /** The chart's clock: offsets are shown from `startMs`. */
  readonly startMs: number;
  readonly endMs: number;
  readonly bars: readonly GanttBar[];
  /** Calls per interval (the rehearsal's live traffic); the failed part of each bin is marked. */
  readonly rate?: { readonly binMs: number; readonly bins: readonly CallBin[] };
}

const WIDTH = 900;
const GUTTER = 170;
const RIGHT = 110;
const ROW = 24;
const TOP = 56;
const RATE_HEIGHT = 110;
const COLORS: Readonly<Record<BarStatus, string>> = {
  succeeded: "#2e7d32",
  failed: "#c62828",
  open: "#ef8f00",
  "not-run": "#9e9e9e",
};

/** Text and attribute values: the five XML specials escaped, control characters dropped. */
export function xmlEscape(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, "")
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&apos;")
  );
}

/** An offset on the axis: `+0s`, `+1.5s`, `+2m 05s`, `+250 ms`. */
export function formatOffset(ms: number): string {
  const rounded = Math.round(ms);
  if (rounded !== 0 && Math.abs(rounded) < 1000) return `+${rounded} ms`;
  const seconds = rounded / 1000;
  if (seconds < 60) return `+${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)}s`;
  const whole = Math.round(seconds);
  return `+${Math.floor(whole / 60)}m ${String(whole % 60).padStart(2, "0")}s`;
}

/** A tick step of 1, 2 or 5 times a power of ten (ms) giving at most about `count` ticks. */
export function tickStep(spanMs: number, count = 8): number {
  const raw = Math.max(spanMs, 1) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const factor of [1, 2, 5, 10]) if (factor * power >= raw) return factor * power;
  return 10 * power;
}

const num = (value: number): string => String(Math.round(value * 10) / 10);

/** The SVG document. */
export function renderTimelineSvg(chart: TimelineChart): string {
  const span = Math.max(chart.endMs - chart.startMs, 1);
  const plotWidth = WIDTH - GUTTER - RIGHT;
  const x = (ms: number): number => GUTTER + (Math.min(Math.max(ms, chart.startMs), chart.endMs) - chart.startMs) * (plotWidth / span);
  const ganttBottom = TOP + chart.bars.length * ROW;
  const rateTop = ganttBottom + 40;
  const height = chart.rate ? rateTop + RATE_HEIGHT + 50 : ganttBottom + 30;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${xmlEscape(chart.title)}</title>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${xmlEscape(chart.title)}</text>`,
  ];
  out.push(...axis(chart, x, TOP - 8, chart.rate ? rateTop + RATE_HEIGHT : ganttBottom));
  chart.bars.forEach((bar, i) => out.push(...ganttRow(bar, TOP + i * ROW, x, chart.endMs)));
  if (chart.rate) out.push(...rateChart(chart.rate, rateTop, x, chart));
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

function axis(chart: TimelineChart, x: (ms: number) => number, y: number, bottom: number): string[] {
  const step = tickStep(chart.endMs - chart.startMs);
  const out = [`<g class="axis">`];
  for (let offset = 0; chart.startMs + offset <= chart.endMs; offset += step) {
    const at = num(x(chart.startMs + offset));
    out.push(`<line x1="${at}" y1="${y}" x2="${at}" y2="${bottom}" stroke="#e0e0e0"/>`);
    out.push(`<text x="${at}" y="${y - 4}" text-anchor="middle" fill="#555555">${xmlEscape(formatOffset(offset))}</text>`);
  }
  out.push("</g>");
  return out;
}

function ganttRow(bar: GanttBar, y: number, x: (ms: number) => number, chartEnd: number): string[] {
  const out = [`<g class="phase" data-status="${bar.status}">`];
  out.push(`<text x="${GUTTER - 8}" y="${y + 16}" text-anchor="end">${xmlEscape(bar.label)}</text>`);
  let noteX = GUTTER + 4;
  if (bar.startMs !== null) {
    const from = x(bar.startMs);
    const to = Math.max(x(bar.endMs ?? chartEnd), from + 2);
    const dashed = bar.endMs === null ? ` stroke="${COLORS.open}" stroke-dasharray="4 3" fill-opacity="0.5"` : "";
    out.push(
      `<rect x="${num(from)}" y="${y + 4}" width="${num(to - from)}" height="${ROW - 8}" rx="2" fill="${COLORS[bar.status]}"${dashed}>` +
        `<title>${xmlEscape(`${bar.label}: ${bar.note}`)}</title></rect>`,
    );
    noteX = to + 4;
  }
  out.push(`<text x="${num(noteX)}" y="${y + 16}" fill="#333333">${xmlEscape(bar.note)}</text>`);
  out.push("</g>");
  return out;
}

function rateChart(rate: NonNullable<TimelineChart["rate"]>, top: number, x: (ms: number) => number, chart: TimelineChart): string[] {
  const peak = Math.max(1, ...rate.bins.map((b) => b.calls));
  const scale = (RATE_HEIGHT - 10) / peak;
  const base = top + RATE_HEIGHT;
  const perSecond = 1000 / rate.binMs;
  const unit = rate.binMs === 1000 ? "calls per second" : `calls per ${formatOffset(rate.binMs).slice(1)}`;
  const failedTotal = rate.bins.reduce((sum, b) => sum + b.failed, 0);
  const out = [
    `<g class="rate">`,
    `<text x="10" y="${top - 12}" font-weight="bold">${xmlEscape(`Live traffic, ${unit}`)}</text>`,
    `<text x="${GUTTER - 8}" y="${top + 10}" text-anchor="end" fill="#555555">${xmlEscape(`${peak} (${num(peak * perSecond)}/s)`)}</text>`,
    `<text x="${GUTTER - 8}" y="${base}" text-anchor="end" fill="#555555">0</text>`,
    `<line x1="${GUTTER}" y1="${base}" x2="${WIDTH - RIGHT}" y2="${base}" stroke="#555555"/>`,
  ];
  for (const bin of rate.bins) {
    if (bin.startMs > chart.endMs || bin.startMs + rate.binMs < chart.startMs) continue;
    const from = x(bin.startMs);
    const width = Math.max(x(bin.startMs + rate.binMs) - from - 1, 1);
    const ok = bin.calls - bin.failed;
    const label = `${formatOffset(bin.startMs - chart.startMs)}: ${bin.calls} calls, ${bin.failed} failed`;
    out.push(
      `<rect class="calls" x="${num(from)}" y="${num(base - ok * scale)}" width="${num(width)}" height="${num(ok * scale)}" fill="#1565c0"><title>${xmlEscape(label)}</title></rect>`,
    );
    if (bin.failed > 0) {
      const failedTop = base - bin.calls * scale;
      out.push(
        `<rect class="failed" x="${num(from)}" y="${num(failedTop)}" width="${num(width)}" height="${num(bin.failed * scale)}" fill="${COLORS.failed}"><title>${xmlEscape(label)}</title></rect>`,
        `<text class="failed-mark" x="${num(from + width / 2)}" y="${num(failedTop - 3)}" text-anchor="middle" fill="${COLORS.failed}" font-weight="bold">×</text>`,
      );
    }
  }
  const legendY = base + 30;
  out.push(
    `<rect x="${GUTTER}" y="${legendY - 10}" width="10" height="10" fill="#1565c0"/>`,
    `<text x="${GUTTER + 14}" y="${legendY}">answered or other</text>`,
    `<rect x="${GUTTER + 140}" y="${legendY - 10}" width="10" height="10" fill="${COLORS.failed}"/>`,
    `<text x="${GUTTER + 154}" y="${legendY}">${xmlEscape(`failed (401, 403, 404, refused): ${failedTotal} in all`)}</text>`,
    "</g>",
  );
  return out;
}
