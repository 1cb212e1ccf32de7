// A user's own in-memory dataset for `sc.train.fit`: pictures of horizontal or vertical stripes
// (with noise), generated from a seed in the training worker by `createDataset(options)`.
// Items are { image: Float32Array (CHW, values in [0, 1]), label }; a dataset is anything with
// `length` and `get(index)`.

/** A small deterministic generator (mulberry32), so every worker builds the same data. */
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function stripes(count, size, random) {
  return Array.from({ length: count }, (_, i) => {
    const label = i % 2; // 0 horizontal, 1 vertical
    const period = 2 + Math.floor(random() * 3);
    const image = new Float32Array(3 * size * size);
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++) {
          const on = Math.floor((label === 0 ? y : x) / period) % 2;
          image[(c * size + y) * size + x] = Math.min(1, Math.max(0, 0.2 + 0.6 * on + 0.2 * (random() - 0.5)));
        }
    return { image, label };
  });
}

export function createDataset({ trainItems = 128, valItems = 32, size = 16, seed = 1 } = {}) {
  const random = generator(seed);
  const train = stripes(trainItems, size, random);
  const val = stripes(valItems, size, random);
  const split = (items) => ({ length: items.length, get: (index) => items[index] });
  return { train: split(train), val: split(val), classes: ['horizontal', 'vertical'], imageShape: [3, size, size] };
}
