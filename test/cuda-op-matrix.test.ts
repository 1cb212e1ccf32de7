// The op matrix (test/helpers/op-matrix.ts) on the CUDA device: the emulated backend in
// `npm run test:cuda` (the same .cu sources compiled for the host), a GPU with
// SEPCONV_TEST_CUDA=device. Same cases, references, guards and tolerances as on the CPU.
import { describeCuda } from './helpers/cuda.js';
import { expect, it } from 'vitest';
import { native } from '../dist/native.js';
import { ops } from '../dist/ops.js';
import type { OpName } from '../dist/ops.js';
import { allCases, runCase } from './helpers/op-matrix.js';

const table = allCases();

describeCuda('op matrix (CUDA)', () => {
  it('has a CUDA kernel and matrix cases for every op of the native op list', () => {
    expect(native.opNames().filter((op) => !native.cudaOpSupported(ops[op as OpName].id)), 'ops without a CUDA kernel').toEqual([]);
    expect(native.opNames().filter((op) => !(table.get(op)?.length)), 'ops without matrix cases').toEqual([]);
  });

  for (const [op, opCases] of table)
    it(`${op}: ${opCases.length} cases × dtypes`, () => {
      const failures: string[] = [];
      for (const c of opCases)
        for (const dtype of c.dtypes ?? ['float32', 'float64']) failures.push(...runCase(c, dtype, { device: 'cuda' }));
      expect(failures.slice(0, 12), `${failures.length} failures`).toEqual([]);
    });
});
