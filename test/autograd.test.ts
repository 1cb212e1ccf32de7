import { describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';
import { expectClose, gradcheck, randomArray } from './helpers/gradcheck.js';

const input = (shape: number[], seed: number) => ({ data: randomArray(shape.reduce((a, b) => a * b, 1), seed), shape });

describe('elementwise gradients (float64 finite differences)', () => {
  it('add/sub/mul/div with broadcasting', () => {
    for (const op of ['add', 'sub', 'mul', 'div'] as const) {
      gradcheck((a, b) => sc.F[op](a!, b!), [input([3, 1, 4], 1), { data: randomArray(5 * 4, 2).map((v) => v + 3), shape: [5, 4] }]);
      gradcheck((a, b) => sc.F[op](a!, b!), [input([2, 3], 3), { data: randomArray(3, 4).map((v) => v + 3), shape: [3] }]);
    }
  });
  it('scalar operands, neg, relu', () => {
    gradcheck((a) => a!.mul(3).add(2).div(4).sub(1).neg(), [input([7], 5)]);
    gradcheck((a) => sc.F.relu(a!), [input([4, 5], 6)]);
  });
  it('sum and mean over dims, reshape, flatten', () => {
    gradcheck((a) => a!.sum(), [input([3, 4], 7)]);
    gradcheck((a) => a!.sum([0, 2], true), [input([2, 3, 4], 8)]);
    gradcheck((a) => a!.mean(1), [input([2, 3, 4], 9)]);
    gradcheck((a) => a!.reshape([4, -1]).mul(a!.reshape([4, 6])), [input([2, 3, 4], 10)]);
    gradcheck((a) => sc.F.flatten(a!, 1), [input([2, 3, 4], 11)]);
  });
});

describe('the tape', () => {
  it('accumulates gradients where paths meet and across backward calls', () => {
    const x = sc.tensor([1, 2, 3], [3], { requiresGrad: true });
    const y = x.mul(x).add(x.mul(2)).sum(); // dy/dx = 2x + 2
    y.backward();
    expect(Array.from(x.grad!.toArray())).toEqual([4, 6, 8]);
    x.mul(3).sum().backward();
    expect(Array.from(x.grad!.toArray())).toEqual([7, 9, 11]);
  });

  it('passes a given gradient for non-scalar outputs', () => {
    const x = sc.tensor([1, 2], [2], { requiresGrad: true });
    x.mul(5).backward(sc.tensor([1, 10], [2]));
    expect(Array.from(x.grad!.toArray())).toEqual([5, 50]);
  });

  it('noGrad records nothing; a freed graph cannot be reused', () => {
    const x = sc.ones([2], { requiresGrad: true });
    const y = sc.noGrad(() => x.mul(2));
    expect(y.requiresGrad).toBe(false);
    const z = x.mul(2).sum();
    z.backward();
    expect(() => z.backward()).toThrow(/already freed/);
  });

  it('reductions match a float64 reference on odd sizes for every ISA', () => {
    const data = randomArray(3 * 37 * 5, 12);
    const ref = new Float64Array(37);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 37; j++) for (let k = 0; k < 5; k++) ref[j]! += data[(i * 37 + j) * 5 + k]!;
    for (const isa of sc.backend().supportedIsas) {
      sc._setIsa(isa);
      const t = sc.tensor(Float32Array.from(data), [3, 37, 5]);
      expectClose(t.sum([0, 2]).toArray(), ref, 1e-5, 1e-5);
      expectClose([t.sum().item()], [ref.reduce((a, b) => a + b, 0)], 1e-4, 1e-5);
      expectClose(sc.tensor(Float32Array.from(data), [3, 185]).sum(0).toArray(), Array.from({ length: 185 }, (_, j) => data[j]! + data[185 + j]! + data[370 + j]!), 1e-5, 1e-5);
    }
    sc._setIsa(sc.backend().supportedIsas[0]!);
  });
});
