// The comparison report's per-layer table: its "all convolutions" total covers the convolutions
// the regular/DSC switch changes, not the classifier's Linear layer.
import { describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';
import { layerPairs } from '../dist/train/compare.js';
import { layerRows } from '../dist/train/report.js';

describe('report layer table', () => {
  it('totals the convolutions only', () => {
    const { layers } = layerPairs(sc.train.resolveConfig({ model: 'vgg' }), 10);
    const rows = layerRows(layers);
    const total = rows.at(-1)!;
    expect(total[0]).toBe('all convolutions');
    const convs = layers.filter((l) => l.regular.type !== 'Linear');
    expect(convs.length).toBe(layers.length - 1); // VGG: six convs and fc
    const sum = (v: 'regular' | 'dsc') => convs.reduce((s, l) => s + l[v].params, 0);
    expect(total[2]).toBe(sum('regular').toLocaleString('en-US'));
    expect(total[5]).toBe(sum('dsc').toLocaleString('en-US'));
  });
});
