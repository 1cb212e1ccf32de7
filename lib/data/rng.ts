/**
 * Counter-based randomness for data loading: every draw is a function of (seed, epoch, item
 * index), never of which worker ran the item or when, so shuffles and augmentations repeat
 * exactly for the same seed whatever the worker count or timing.
 */

/** The murmur3 finaliser: a cheap, well-mixed 32-bit hash step. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A small fast generator (sfc32) whose state is derived from a list of integer keys. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(...keys: number[]) {
    let h = 0x9e3779b9;
    for (const key of keys) {
      // Keys may exceed 32 bits (seeds up to 2^53): fold in the high and low words.
      h = mix32(h ^ (key >>> 0));
      h = mix32(h ^ Math.floor(key / 0x100000000));
    }
    this.a = h;
    this.b = mix32(h ^ 0x68e31da4);
    this.c = mix32(h ^ 0xb5297a4d);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 0x100000000;
  }

  /** Uniform in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

const SHUFFLE_STREAM = 0x5f3759df;

/** The generator for one item's augmentation in one epoch. */
export function itemRng(seed: number, epoch: number, index: number): Rng {
  return new Rng(seed, epoch, index);
}

/** The order of `length` items in `epoch` (Fisher–Yates on the (seed, epoch) stream). */
export function shuffledOrder(length: number, seed: number, epoch: number): number[] {
  const order = Array.from({ length }, (_, i) => i);
  const rng = new Rng(seed, epoch, SHUFFLE_STREAM, length);
  for (let i = length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}
