/**
 * Small SVG line charts for learning curves, rendered to PNG with sharp. Hand-written SVG
 * keeps the pictures dependency-free beyond sharp (which rasterises SVG with librsvg).
 */
import sharp from 'sharp';

export interface Series {
  label: string;
  color: string;
  /** Solid for training, dashed for validation. */
  dashed?: boolean;
  /** [x, y] points; non-finite y values are left out of the line. */
  points: readonly (readonly [number, number])[];
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
}

const PANEL_WIDTH = 480;
const PANEL_HEIGHT = 340;
const MARGIN = { left: 64, right: 16, top: 36, bottom: 92 };
const FONT = 'font-family="DejaVu Sans, Arial, sans-serif"';

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** About `count` round tick values (1, 2 or 5 times a power of ten) covering [low, high]. */
export function niceTicks(low: number, high: number, count = 5): number[] {
  if (!(high > low)) return [low];
  const raw = (high - low) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = Math.ceil(low / step - 1e-9) * step; v <= high + step * 1e-9; v += step) ticks.push(+v.toPrecision(12));
  return ticks;
}

function formatTick(v: number): string {
  return Math.abs(v) >= 1000 || (v !== 0 && Math.abs(v) < 0.001) ? v.toExponential(1) : String(+v.toPrecision(4));
}

/** The y range shown: the data's range, padded, widened when flat. */
function yRange(values: number[]): [number, number] {
  if (values.length === 0) return [0, 1];
  let low = Math.min(...values);
  let high = Math.max(...values);
  if (high - low < 1e-9) {
    low -= Math.max(Math.abs(low) * 0.1, 0.05);
    high += Math.max(Math.abs(high) * 0.1, 0.05);
  }
  const pad = (high - low) * 0.06;
  return [low - pad, high + pad];
}

/** One chart as an SVG group of PANEL_WIDTH × PANEL_HEIGHT at (x, y). */
function panelSvg(panel: Panel, x: number, y: number): string {
  const plotW = PANEL_WIDTH - MARGIN.left - MARGIN.right;
  const plotH = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const finite = panel.series.flatMap((s) => s.points.filter(([, v]) => Number.isFinite(v)));
  const xs = finite.map(([px]) => px);
  const xLow = xs.length ? Math.min(...xs) : 0;
  const xHigh = xs.length && Math.max(...xs) > xLow ? Math.max(...xs) : xLow + 1;
  const [yLow, yHigh] = yRange(finite.map(([, v]) => v));
  const sx = (v: number): number => MARGIN.left + ((v - xLow) / (xHigh - xLow)) * plotW;
  const sy = (v: number): number => MARGIN.top + (1 - (v - yLow) / (yHigh - yLow)) * plotH;

  const parts: string[] = [`<g transform="translate(${x},${y})">`];
  parts.push(`<text x="${PANEL_WIDTH / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold" ${FONT}>${escapeXml(panel.title)}</text>`);
  for (const t of niceTicks(yLow, yHigh)) {
    const py = sy(t).toFixed(1);
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${py}" y2="${py}" stroke="#e3e3e3"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${py}" dy="4" text-anchor="end" font-size="11" ${FONT}>${formatTick(t)}</text>`);
  }
  const xTicks = niceTicks(xLow, xHigh, Math.min(10, Math.max(1, Math.round(xHigh - xLow)))).filter((t) => Number.isInteger(t));
  for (const t of xTicks) {
    const px = sx(t).toFixed(1);
    parts.push(`<line x1="${px}" x2="${px}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH + 4}" stroke="#555"/>`);
    parts.push(`<text x="${px}" y="${MARGIN.top + plotH + 17}" text-anchor="middle" font-size="11" ${FONT}>${t}</text>`);
  }
  parts.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#555"/>`);
  parts.push(`<text x="${MARGIN.left + plotW / 2}" y="${MARGIN.top + plotH + 34}" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(panel.xLabel)}</text>`);
  parts.push(`<text transform="translate(16,${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(panel.yLabel)}</text>`);

  for (const s of panel.series) {
    const pts = s.points.filter(([, v]) => Number.isFinite(v));
    const dash = s.dashed ? ' stroke-dasharray="6,4"' : '';
    if (pts.length > 1)
      parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${pts.map(([px, py]) => `${sx(px).toFixed(1)},${sy(py).toFixed(1)}`).join(' ')}"/>`);
    for (const [px, py] of pts) parts.push(`<circle cx="${sx(px).toFixed(1)}" cy="${sy(py).toFixed(1)}" r="3" fill="${s.color}"/>`);
  }
  // Legend below the plot, two entries per line.
  panel.series.forEach((s, i) => {
    const lx = MARGIN.left + (i % 2) * (plotW / 2);
    const ly = MARGIN.top + plotH + 52 + Math.floor(i / 2) * 17;
    const dash = s.dashed ? ' stroke-dasharray="6,4"' : '';
    parts.push(`<line x1="${lx}" x2="${lx + 26}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    parts.push(`<text x="${lx + 32}" y="${ly}" font-size="12" ${FONT}>${escapeXml(s.label)}</text>`);
  });
  parts.push('</g>');
  return parts.join('\n');
}

/** Panels side by side in one SVG document. */
export function chartsSvg(panels: readonly Panel[]): string {
  const width = PANEL_WIDTH * panels.length;
  const body = panels.map((p, i) => panelSvg(p, i * PANEL_WIDTH, 0)).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${PANEL_HEIGHT}" viewBox="0 0 ${width} ${PANEL_HEIGHT}">
<rect width="100%" height="100%" fill="white"/>
${body}
</svg>`;
}

/** Renders panels side by side to PNG bytes. */
export async function renderCharts(panels: readonly Panel[]): Promise<Buffer> {
  return sharp(Buffer.from(chartsSvg(panels))).png().toBuffer();
}
