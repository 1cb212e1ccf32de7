/**
 * The pictures of a run: learning curves (curves.png) and, for segmentation, a grid of
 * validation images with their true and predicted masks (masks.png), one frame per epoch
 * animated into masks.gif. All rendered with sharp.
 */
import sharp from 'sharp';
import { escapeXml, renderCharts } from './charts.js';
import type { Panel, Series } from './charts.js';
import type { MetricsRow } from './files.js';

export type Task = 'classification' | 'segmentation';

/** A run's rows drawn under one label and colour (compare overlays two). */
export interface CurveRun {
  label: string;
  color: string;
  rows: readonly MetricsRow[];
}

function series(run: CurveRun, key: string, what: string, dashed: boolean, color = run.color): Series | null {
  if (!run.rows.some((r) => key in r)) return null;
  const label = run.label ? `${run.label} ${what}` : what;
  return { label, color, dashed, points: run.rows.map((r) => [r['epoch']!, r[key] ?? NaN] as const) };
}

/**
 * The panels of curves.png: loss and the task's metrics per epoch, train solid and
 * validation dashed. One run uses two colours (train, val); several runs use one colour each.
 */
export function curvePanels(runs: readonly CurveRun[], task: Task): Panel[] {
  const single = runs.length === 1;
  const VAL_COLOR = '#e15759';
  const panel = (title: string, yLabel: string, metric: string): Panel => ({
    title,
    xLabel: 'epoch',
    yLabel,
    series: runs
      .flatMap((run) => [
        series(run, `train${metric}`, 'train', false),
        series(run, `val${metric}`, 'validation', true, single ? VAL_COLOR : run.color),
      ])
      .filter((s): s is Series => s !== null),
  });
  return task === 'classification'
    ? [panel('Loss', 'cross-entropy', 'Loss'), panel('Accuracy', 'accuracy', 'Accuracy')]
    : [panel('Loss', 'cross-entropy', 'Loss'), panel('Pixel accuracy', 'pixel accuracy', 'PixelAccuracy'), panel('Mean IoU', 'mean IoU', 'MeanIoU')];
}

/**
 * curves.png bytes for the given runs.
 *
 * @example
 * writeFileSync('curves.png', await sc.train.renderCurves([{ label: '', color: '#4e79a7', rows }], 'classification'));
 */
export function renderCurves(runs: readonly CurveRun[], task: Task): Promise<Buffer> {
  return renderCharts(curvePanels(runs, task));
}

// ------------------------------------------------------------------------------------ masks

/** Mask colours by class index (Pets: pet, background, border), then a few spares. */
export const MASK_PALETTE: readonly (readonly [number, number, number])[] = [
  [242, 142, 43],
  [38, 70, 110],
  [250, 235, 150],
  [89, 161, 79],
  [176, 122, 161],
  [118, 183, 178],
];

export interface MaskSample {
  /** uint8 CHW, 3×S×S, as the dataset gives it. */
  image: Uint8Array;
  /** uint8 or int32 S×S class indices. */
  target: ArrayLike<number>;
  predicted: ArrayLike<number>;
}

const LABEL_WIDTH = 116;
const TITLE_HEIGHT = 34;
const LEGEND_HEIGHT = 30;
const GAP = 4;
const FONT = 'font-family="DejaVu Sans, Arial, sans-serif"';

/** Writes one S×S picture into an RGB canvas at (x0, y0), each pixel as a scale×scale block. */
function blit(canvas: Buffer, canvasWidth: number, x0: number, y0: number, size: number, scale: number, rgbAt: (i: number) => readonly [number, number, number]): void {
  for (let y = 0; y < size * scale; y++) {
    for (let x = 0; x < size * scale; x++) {
      const rgb = rgbAt(Math.floor(y / scale) * size + Math.floor(x / scale));
      const o = ((y0 + y) * canvasWidth + x0 + x) * 3;
      canvas[o] = rgb[0];
      canvas[o + 1] = rgb[1];
      canvas[o + 2] = rgb[2];
    }
  }
}

/**
 * The masks grid: one column per sample; rows input, ground truth, prediction; a title on
 * top and a colour legend of `classes` below. Returns PNG bytes.
 *
 * @example
 * const png = await sc.train.renderMaskGrid([{ image, target: mask, predicted }], 128, ['pet', 'background', 'border'], 'epoch 3');
 */
export async function renderMaskGrid(samples: readonly MaskSample[], size: number, classes: readonly string[], title: string): Promise<Buffer> {
  const scale = Math.max(1, Math.round(128 / size));
  const cell = size * scale;
  // Wide enough for the title too (about 9 px per character of 16 px DejaVu Sans Bold).
  const width = Math.max(LABEL_WIDTH + samples.length * (cell + GAP), 16 + Math.ceil(title.length * 9.5));
  const height = TITLE_HEIGHT + 3 * (cell + GAP) + LEGEND_HEIGHT;
  const canvas = Buffer.alloc(width * height * 3, 255);
  const plane = size * size;
  const colour = (c: number): readonly [number, number, number] => MASK_PALETTE[c % MASK_PALETTE.length]!;
  samples.forEach((s, col) => {
    const x0 = LABEL_WIDTH + col * (cell + GAP);
    const rowY = (row: number): number => TITLE_HEIGHT + row * (cell + GAP);
    blit(canvas, width, x0, rowY(0), size, scale, (i) => [s.image[i]!, s.image[plane + i]!, s.image[2 * plane + i]!]);
    blit(canvas, width, x0, rowY(1), size, scale, (i) => colour(s.target[i]!));
    blit(canvas, width, x0, rowY(2), size, scale, (i) => colour(s.predicted[i]!));
  });
  const rowLabels = ['input', 'ground truth', 'prediction']
    .map((label, row) => `<text x="8" y="${TITLE_HEIGHT + row * (cell + GAP) + cell / 2 + 5}" font-size="14" ${FONT}>${label}</text>`)
    .join('');
  const legendY = TITLE_HEIGHT + 3 * (cell + GAP) + 20;
  const legend = classes
    .map((name, c) => {
      const x = LABEL_WIDTH + c * 130;
      const [r, g, b] = colour(c);
      return `<rect x="${x}" y="${legendY - 12}" width="14" height="14" fill="rgb(${r},${g},${b})" stroke="#555"/><text x="${x + 20}" y="${legendY}" font-size="13" ${FONT}>${escapeXml(name)}</text>`;
    })
    .join('');
  const overlay = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
<text x="8" y="23" font-size="16" font-weight="bold" ${FONT}>${escapeXml(title)}</text>${rowLabels}${legend}</svg>`;
  return sharp(canvas, { raw: { width, height, channels: 3 } })
    .composite([{ input: Buffer.from(overlay), left: 0, top: 0 }])
    .png()
    .toBuffer();
}

/**
 * Frames (PNG bytes of equal size) as a looping animated GIF; the last frame lingers.
 *
 * @example
 * writeFileSync('masks.gif', await sc.train.renderGif([frame1, frame2, frame3]));
 */
export async function renderGif(frames: readonly Buffer[], frameMs = 700): Promise<Buffer> {
  const delay = frames.map((_, i) => (i === frames.length - 1 ? frameMs * 3 : frameMs));
  const animation = frames.length === 1 ? sharp(frames[0]) : sharp(frames.slice(), { join: { animated: true } });
  return animation.gif({ delay, loop: 0, keepDuplicateFrames: true }).toBuffer();
}

/** Colour mask (S×S RGB PNG) and overlay (image blended with the mask) for `predict`. */
export async function renderMaskAndOverlay(image: Uint8Array, mask: ArrayLike<number>, size: number): Promise<{ mask: Buffer; overlay: Buffer }> {
  const plane = size * size;
  const maskRgb = Buffer.alloc(plane * 3);
  const overlayRgb = Buffer.alloc(plane * 3);
  for (let i = 0; i < plane; i++) {
    const rgb = MASK_PALETTE[mask[i]! % MASK_PALETTE.length]!;
    for (let ch = 0; ch < 3; ch++) {
      maskRgb[i * 3 + ch] = rgb[ch]!;
      overlayRgb[i * 3 + ch] = Math.round(0.55 * image[ch * plane + i]! + 0.45 * rgb[ch]!);
    }
  }
  const png = (rgb: Buffer): Promise<Buffer> => sharp(rgb, { raw: { width: size, height: size, channels: 3 } }).png().toBuffer();
  return { mask: await png(maskRgb), overlay: await png(overlayRgb) };
}
