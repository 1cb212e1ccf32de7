// The op × dtype × ISA matrix on the CPU (test/helpers/op-matrix.ts): every native op, every
// case, float32 and float64 (and the integer dtypes where the op takes them), on every ISA
// path this machine runs, against float64 references with guarded, NaN-filled operands.
// The same table runs on the emulated CUDA device in test/cuda-op-matrix.test.ts.
import { afterAll, describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';
import { native } from '../dist/native.js';
import { allCases, Placed, runCase } from './helpers/op-matrix.js';

const isas = sc.backend().supportedIsas;
const table = allCases();
const ratios = process.env.SEPCONV_MATRIX_RATIOS ? new Map<string, number>() : undefined;
afterAll(() => {
  sc._setIsa(isas[0]!);
  sc._setConvAlgo('auto');
  if (ratios) console.log([...ratios].sort().map(([k, v]) => `${k}: ${v.toFixed(2)}`).join('\n'));
});

describe('op matrix (CPU)', () => {
  it('has cases for every op of the native op list', () => {
    const missing = native.opNames().filter((op) => !(table.get(op)?.length));
    expect(missing, 'ops without matrix cases').toEqual([]);
  });

  it('sees a write one element past an operand, and an output left unwritten', () => {
    const placed = new Placed('float32', [3, 5], null, 'cpu');
    expect(placed.readBack().guardError).toBeNull();
    native.write(placed.whole.storage('test').handle, (placed.view.offset + 15) * 4, Float32Array.of(0));
    expect(placed.readBack().guardError).toMatch(/the guard 1 past the end changed/);
    placed.dispose();
    // narrow_copy writes 2 of the 4 elements; the others keep the NaN they started with.
    const partial = { op: 'narrow_copy', label: 'half', inputs: [{ shape: [2], values: [1, 2] }], outputs: [{ shape: [4] }], params: [0, 0, 0, 2],
      reference: () => [{ values: Float64Array.of(1, 2, 0, 0) }] };
    expect(runCase(partial, 'float32', { device: 'cpu' })).toEqual([expect.stringMatching(/element [23] of 4: got NaN, expected 0/)]);
  });

  for (const [op, opCases] of table)
    it(`${op}: ${opCases.length} cases × dtypes × ${isas.join('/')}`, () => {
      const failures: string[] = [];
      for (const isa of isas) {
        sc._setIsa(isa);
        for (const c of opCases)
          for (const dtype of c.dtypes ?? ['float32', 'float64'])
            for (const algo of c.winograd ? (['im2col', 'winograd'] as const) : [undefined]) {
              sc._setConvAlgo(algo ?? 'auto');
              failures.push(...runCase(c, dtype, { device: 'cpu', algo, ratios }).map((f) => `${isa}: ${f}`));
            }
      }
      sc._setConvAlgo('auto');
      expect(failures.slice(0, 12), `${failures.length} failures`).toEqual([]);
    });
});
