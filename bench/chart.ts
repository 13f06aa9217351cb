/**
 * The benchmark's ratios as an SVG bar chart (hand-written SVG, no dependency):
 * one horizontal bar per figure, its target as a tick, met targets green and
 * missed ones red. bench/run.ts calls `writeChart` with every scenario's bars
 * and links bench/results.svg from bench/RESULTS.md.
 *
 * @example
 * writeChart([{ label: 'client_credentials: Warta / peer', value: 1.62, target: 1.5 }], 'bench/results.svg', 'Run of 2026-12-01');
 */
import { writeFileSync } from 'node:fs';

export interface ChartBar {
  /** What the ratio compares, e.g. "client_credentials: Warta / peer". */
  label: string;
  /** The ratio; higher is better. */
  value: number;
  /** The ratio the target asks for; 0 or undefined: none (shown grey). */
  target?: number | undefined;
  /** A short note written after the bar, e.g. the figures behind the ratio. */
  note?: string | undefined;
}

const WIDTH = 1000;
const LABEL_WIDTH = 330;
const NOTE_WIDTH = 270;
const ROW_HEIGHT = 30;
const TOP = 52;
const BOTTOM = 34;

const escape = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
const format = (n: number) => (Number.isFinite(n) ? (n >= 10 ? n.toFixed(0) : n.toFixed(2)) : 'n/a');

/** The chart as SVG text. */
export function chartSvg(bars: ChartBar[], title: string): string {
  const plotLeft = LABEL_WIDTH;
  const plotWidth = WIDTH - LABEL_WIDTH - NOTE_WIDTH;
  const finite = bars.map((b) => b.value).filter(Number.isFinite);
  // The scale covers every bar and target, in whole halves, at least 0..2 (ratios around 1 stay readable).
  const max = Math.max(2, Math.ceil(2 * Math.max(...finite, ...bars.map((b) => b.target ?? 0))) / 2);
  const x = (v: number) => plotLeft + (Math.min(Math.max(v, 0), max) / max) * plotWidth;
  const height = TOP + bars.length * ROW_HEIGHT + BOTTOM;
  const grid: string[] = [];
  const step = max <= 3 ? 0.5 : max <= 8 ? 1 : Math.ceil(max / 8);
  for (let v = 0; v <= max + 1e-9; v += step) {
    grid.push(`<line x1="${x(v).toFixed(1)}" y1="${TOP - 6}" x2="${x(v).toFixed(1)}" y2="${height - BOTTOM + 4}" stroke="${v === 1 ? '#888' : '#e3e3e3'}" stroke-width="1"/>`);
    grid.push(`<text x="${x(v).toFixed(1)}" y="${height - BOTTOM + 18}" text-anchor="middle" class="axis">${format(v)}×</text>`);
  }
  const rows = bars.map((bar, i) => {
    const y = TOP + i * ROW_HEIGHT;
    const hasTarget = bar.target !== undefined && bar.target > 0;
    const colour = !Number.isFinite(bar.value) || !hasTarget ? '#8a8f98' : bar.value >= bar.target! ? '#2e8540' : '#c0392b';
    const parts = [
      `<text x="${plotLeft - 10}" y="${y + 19}" text-anchor="end" class="label">${escape(bar.label)}</text>`,
      `<rect x="${plotLeft}" y="${y + 6}" width="${(x(Number.isFinite(bar.value) ? bar.value : 0) - plotLeft).toFixed(1)}" height="${ROW_HEIGHT - 12}" fill="${colour}"><title>${escape(`${bar.label}: ${format(bar.value)}×${hasTarget ? ` (target ${format(bar.target!)}×)` : ''}`)}</title></rect>`,
      `<text x="${(x(Number.isFinite(bar.value) ? bar.value : 0) + 5).toFixed(1)}" y="${y + 19}" class="value">${format(bar.value)}×${bar.value > max ? ' →' : ''}</text>`,
    ];
    if (hasTarget) parts.push(`<line x1="${x(bar.target!).toFixed(1)}" y1="${y + 2}" x2="${x(bar.target!).toFixed(1)}" y2="${y + ROW_HEIGHT - 2}" stroke="#111" stroke-width="2"><title>target ${format(bar.target!)}×</title></line>`);
    if (bar.note) parts.push(`<text x="${WIDTH - NOTE_WIDTH + 12}" y="${y + 19}" class="note">${escape(bar.note)}</text>`);
    return parts.join('\n  ');
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${escape(title)}">
<style>
  text { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; fill: #222; }
  .title { font-size: 16px; font-weight: 600; }
  .legend, .axis, .note { font-size: 12px; fill: #555; }
  .label { font-size: 13px; }
  .value { font-size: 12px; font-weight: 600; }
</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="16" y="24" class="title">${escape(title)}</text>
<text x="16" y="42" class="legend">Ratio to the reference (higher is better); black tick: target; green: met, red: not met, grey: no target.</text>
${grid.join('\n')}
  ${rows.join('\n  ')}
</svg>
`;
}

/** Writes the chart to `file` (bench/results.svg). */
export function writeChart(bars: ChartBar[], file: string, title = `Warta benchmark, ${new Date().toISOString().slice(0, 10)}`): void {
  writeFileSync(file, chartSvg(bars, title));
}
