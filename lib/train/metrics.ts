/**
 * Classification and segmentation metrics from a confusion matrix: accuracy (micro, i.e.
 * pixel accuracy for masks), per-class IoU and mean IoU. Counts accumulate over batches so
 * an epoch's figures weigh every item (or pixel) equally, whatever the batch sizes.
 */
import { invalidArg } from '../errors.js';

export class ConfusionMatrix {
  /** counts[target * numClasses + predicted]. */
  readonly counts: Float64Array;

  constructor(readonly numClasses: number) {
    if (!Number.isInteger(numClasses) || numClasses < 1)
      throw invalidArg('ConfusionMatrix', 'numClasses', 'a positive integer', String(numClasses));
    this.counts = new Float64Array(numClasses * numClasses);
  }

  /**
   * Counts each (target, predicted) pair; targets equal to `ignoreIndex` are skipped.
   *
   * @example
   * const cm = new sc.train.ConfusionMatrix(3);
   * cm.add(Int32Array.of(0, 1, 2), Int32Array.of(0, 1, 1));
   * cm.accuracy(); // 2/3
   */
  add(predicted: ArrayLike<number>, target: ArrayLike<number>, ignoreIndex?: number): void {
    if (predicted.length !== target.length)
      throw invalidArg('ConfusionMatrix.add', 'predicted', `${target.length} labels (as many as target)`, `${predicted.length}`);
    const n = this.numClasses;
    for (let i = 0; i < target.length; i++) {
      const t = target[i]!;
      if (t === ignoreIndex) continue;
      const p = predicted[i]!;
      if (!(t >= 0 && t < n && p >= 0 && p < n))
        throw invalidArg('ConfusionMatrix.add', `label pair ${i}`, `classes in [0, ${n - 1}]`, `target ${t}, predicted ${p}`);
      this.counts[t * n + p]!++;
    }
  }

  get total(): number {
    let sum = 0;
    for (const c of this.counts) sum += c;
    return sum;
  }

  /** Fraction of items (pixels) whose predicted class is right: trace / total (NaN when empty). */
  accuracy(): number {
    let correct = 0;
    for (let k = 0; k < this.numClasses; k++) correct += this.counts[k * this.numClasses + k]!;
    return correct / this.total;
  }

  /**
   * Intersection over union per class, TP / (TP + FP + FN); NaN for a class that appears
   * neither in the targets nor in the predictions.
   */
  classIoU(): number[] {
    const n = this.numClasses;
    return Array.from({ length: n }, (_, k) => {
      let targetCount = 0;
      let predictedCount = 0;
      for (let j = 0; j < n; j++) {
        targetCount += this.counts[k * n + j]!;
        predictedCount += this.counts[j * n + k]!;
      }
      const tp = this.counts[k * n + k]!;
      const union = targetCount + predictedCount - tp;
      return union === 0 ? NaN : tp / union;
    });
  }

  /** Mean of the per-class IoUs over the classes that occur (NaN when none does). */
  meanIoU(): number {
    const present = this.classIoU().filter((v) => !Number.isNaN(v));
    return present.reduce((a, b) => a + b, 0) / present.length;
  }
}

/**
 * The index of the largest score along the class axis (axis 1) of `[N, C, ...spatial]`
 * scores, as `[N, ...spatial]` labels; ties go to the lower class, as in PyTorch.
 *
 * @example
 * sc.train.argmaxClasses(Float32Array.of(0.1, 0.9, 0.7, 0.2), [2, 2]); // Int32Array [1, 0]
 */
export function argmaxClasses(scores: ArrayLike<number>, shape: readonly number[]): Int32Array {
  const [batch = 0, classes = 0] = shape;
  const plane = shape.slice(2).reduce((a, b) => a * b, 1);
  if (shape.length < 2 || batch * classes * plane !== scores.length)
    throw invalidArg('argmaxClasses', 'shape', `[N, C, ...] with ${scores.length} elements`, `[${shape.join(', ')}]`);
  const labels = new Int32Array(batch * plane);
  for (let b = 0; b < batch; b++) {
    const base = b * classes * plane;
    for (let i = 0; i < plane; i++) {
      let best = 0;
      let bestScore = scores[base + i]!;
      for (let c = 1; c < classes; c++) {
        const s = scores[base + c * plane + i]!;
        if (s > bestScore) {
          bestScore = s;
          best = c;
        }
      }
      labels[b * plane + i] = best;
    }
  }
  return labels;
}

/**
 * The `k` best classes of one score vector, best first (for `predict`'s top-5).
 *
 * @example
 * sc.train.topK([0.1, 0.7, 0.2], 2); // [{ index: 1, score: 0.7 }, { index: 2, score: 0.2 }]
 */
export function topK(scores: ArrayLike<number>, k: number): { index: number; score: number }[] {
  return Array.from(scores, (score, index) => ({ index, score }))
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, k);
}
