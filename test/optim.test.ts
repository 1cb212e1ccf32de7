import { afterAll, describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';
import { expectClose, randomArray } from './helpers/gradcheck.js';

const isas = sc.backend().supportedIsas;
afterAll(() => sc._setIsa(isas[0]!));

type FloatDType = 'float32' | 'float64';

interface SgdSettings { lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean }
interface AdamSettings { lr: number; betas: [number, number]; eps: number; weightDecay: number; amsgrad: boolean; decoupled: boolean }

/** PyTorch's SGD update, step by step, in float64. */
function referenceSgd(start: ArrayLike<number>, grads: Float64Array[], h: SgdSettings): Float64Array {
  const p = Float64Array.from(start);
  let buf: Float64Array | null = null;
  for (const g of grads) {
    const d = Float64Array.from(g, (gi, i) => gi + h.weightDecay * p[i]!);
    if (h.momentum !== 0) {
      buf = buf === null ? Float64Array.from(d) : buf.map((b, i) => h.momentum * b + (1 - h.dampening) * d[i]!);
      for (let i = 0; i < d.length; i++) d[i] = h.nesterov ? d[i]! + h.momentum * buf[i]! : buf[i]!;
    }
    for (let i = 0; i < p.length; i++) p[i]! -= h.lr * d[i]!;
  }
  return p;
}

/** PyTorch's Adam / AdamW update, step by step, in float64. */
function referenceAdam(start: ArrayLike<number>, grads: Float64Array[], h: AdamSettings): Float64Array {
  const p = Float64Array.from(start);
  const m = new Float64Array(p.length), v = new Float64Array(p.length), vmax = new Float64Array(p.length);
  const [b1, b2] = h.betas;
  grads.forEach((grad, t0) => {
    const t = t0 + 1;
    for (let i = 0; i < p.length; i++) {
      let g = grad[i]!;
      if (h.decoupled) p[i]! *= 1 - h.lr * h.weightDecay;
      else g += h.weightDecay * p[i]!;
      m[i] = b1 * m[i]! + (1 - b1) * g;
      v[i] = b2 * v[i]! + (1 - b2) * g * g;
      vmax[i] = Math.max(vmax[i]!, v[i]!);
      const denom = Math.sqrt(h.amsgrad ? vmax[i]! : v[i]!) / Math.sqrt(1 - b2 ** t) + h.eps;
      p[i]! -= (h.lr / (1 - b1 ** t)) * (m[i]! / denom);
    }
  });
  return p;
}

/** Runs `steps` optimizer steps on one parameter with the given gradients; returns the parameter. */
function runSteps(opt: sc.optim.Optimizer<sc.optim.Hyper>, param: sc.Tensor, grads: Float64Array[]): void {
  for (const g of grads) {
    opt.zeroGrad();
    param.grad = sc.tensor(g, param.shape, { dtype: param.dtype });
    opt.step();
  }
}

const gradients = (n: number, steps: number, seed: number) => Array.from({ length: steps }, (_, s) => randomArray(n, seed + s));

const sgdSettings: SgdSettings[] = [
  { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false },
  { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01, nesterov: false },
  { lr: 0.05, momentum: 0.8, dampening: 0, weightDecay: 0.02, nesterov: true },
];
const adamSettings: AdamSettings[] = [
  { lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, decoupled: false },
  { lr: 0.02, betas: [0.8, 0.9], eps: 1e-6, weightDecay: 0.1, amsgrad: true, decoupled: false },
  { lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.05, amsgrad: false, decoupled: true },
  { lr: 0.03, betas: [0.5, 0.9], eps: 1e-7, weightDecay: 0.2, amsgrad: true, decoupled: true },
];

function makeAdam(params: sc.Tensor[], h: AdamSettings): sc.optim.Optimizer<sc.optim.AdamHyper> {
  const options = { lr: h.lr, betas: h.betas, eps: h.eps, weightDecay: h.weightDecay, amsgrad: h.amsgrad };
  return h.decoupled ? new sc.optim.AdamW(params, options) : new sc.optim.Adam(params, options);
}

describe('optimizers against their reference update formulas', () => {
  // 37: vectors plus a tail; 70001: several threads' worth of elements.
  const sizes = [37, 70001];
  it('SGD (momentum, dampening, nesterov, weight decay) on every ISA, float32 and float64', () => {
    for (const n of sizes)
      for (const dtype of ['float32', 'float64'] as FloatDType[])
        sgdSettings.forEach((h, hi) => {
          const start = randomArray(n, 10 + hi);
          const grads = gradients(n, 5, 100 * hi);
          const expected = referenceSgd(dtype === 'float32' ? Float32Array.from(start) : start, grads, h);
          const tol = dtype === 'float32' ? 2e-6 : 1e-13;
          for (const isa of isas) {
            sc._setIsa(isa);
            const p = sc.tensor(start, [n], { dtype, requiresGrad: true });
            runSteps(new sc.optim.SGD([p], h), p, grads);
            expectClose(p.toArray(), expected, tol, tol);
          }
        });
  });

  it('Adam and AdamW (bias correction, coupled/decoupled decay, amsgrad) on every ISA, float32 and float64', () => {
    for (const n of sizes)
      for (const dtype of ['float32', 'float64'] as FloatDType[])
        adamSettings.forEach((h, hi) => {
          const start = randomArray(n, 20 + hi);
          // Later gradients smaller than earlier ones, so amsgrad's running max matters.
          const grads = gradients(n, 6, 200 * hi).map((g, s) => g.map((v) => v / (1 + 2 * s)));
          const expected = referenceAdam(dtype === 'float32' ? Float32Array.from(start) : start, grads, h);
          const tol = dtype === 'float32' ? 1e-5 : 1e-12;
          for (const isa of isas) {
            sc._setIsa(isa);
            const p = sc.tensor(start, [n], { dtype, requiresGrad: true });
            runSteps(makeAdam([p], h), p, grads);
            expectClose(p.toArray(), expected, tol, tol);
          }
        });
  });

  it('amsgrad changes the result when gradients shrink (the test above can tell them apart)', () => {
    const grads = gradients(8, 6, 7).map((g, s) => g.map((v) => v / (1 + 2 * s)));
    const start = randomArray(8, 8);
    const plain = referenceAdam(start, grads, { ...adamSettings[1]!, amsgrad: false });
    const ams = referenceAdam(start, grads, adamSettings[1]!);
    expect(Math.max(...plain.map((v, i) => Math.abs(v - ams[i]!)))).toBeGreaterThan(1e-3);
  });
});

describe('optimizer mechanics', () => {
  it('zeroGrad frees gradients; step skips parameters without one', () => {
    const a = sc.tensor([1, 2], [2], { requiresGrad: true });
    const b = sc.tensor([3, 4], [2], { requiresGrad: true });
    const opt = new sc.optim.SGD([a, b], { lr: 0.5 });
    a.mul(b).sum().backward();
    const gradOfA = a.grad!;
    opt.zeroGrad();
    expect(a.grad).toBeNull();
    expect(gradOfA.isDisposed).toBe(true);
    a.mul(2).sum().backward();
    opt.step();
    expect(Array.from(a.toArray())).toEqual([0, 1]);
    expect(Array.from(b.toArray())).toEqual([3, 4]);
  });

  it('uses per-group hyper-parameters', () => {
    const a = sc.tensor([1], [1], { requiresGrad: true });
    const b = sc.tensor([1], [1], { requiresGrad: true });
    const opt = new sc.optim.SGD([{ params: [a] }, { params: [b], lr: 0.5 }], { lr: 0.1 });
    a.grad = sc.ones([1]);
    b.grad = sc.ones([1]);
    opt.step();
    expectClose(a.toArray(), [0.9], 1e-7, 0);
    expectClose(b.toArray(), [0.5], 1e-7, 0);
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.1, 0.5]);
  });

  it('minimises a quadratic through autograd', () => {
    const target = sc.tensor([3, -2, 0.5], [3]);
    for (const make of [(p: sc.Tensor[]) => new sc.optim.Adam(p, { lr: 0.1 }), (p: sc.Tensor[]) => new sc.optim.SGD(p, { lr: 0.1, momentum: 0.9 })]) {
      const w = sc.zeros([3], { requiresGrad: true });
      const opt = make([w]);
      for (let i = 0; i < 300; i++) {
        opt.zeroGrad();
        const d = w.sub(target);
        d.mul(d).sum().backward();
        opt.step();
      }
      expectClose(w.toArray(), [3, -2, 0.5], 1e-3, 0);
    }
  });
});

describe('resuming from state dicts', () => {
  const n = 53;
  const grads = gradients(n, 8, 900);
  const start = randomArray(n, 901);
  const makers: [string, (p: sc.Tensor[]) => sc.optim.Optimizer<sc.optim.Hyper>][] = [
    ['SGD nesterov', (p) => new sc.optim.SGD(p, { lr: 0.05, momentum: 0.9, weightDecay: 0.01, nesterov: true })],
    ['Adam amsgrad', (p) => new sc.optim.Adam(p, { lr: 0.01, amsgrad: true, weightDecay: 0.1 })],
    ['AdamW', (p) => new sc.optim.AdamW(p, { lr: 0.01 })],
  ];

  it('gives parameters identical to an uninterrupted run (optimizer + scheduler)', () => {
    for (const [name, make] of makers) {
      const whole = sc.tensor(start, [n], { dtype: 'float32', requiresGrad: true });
      const wholeOpt = make([whole]);
      const wholeSched = new sc.optim.StepLR(wholeOpt, { stepSize: 3, gamma: 0.5 });
      for (const g of grads) {
        runSteps(wholeOpt, whole, [g]);
        wholeSched.step();
      }

      const first = sc.tensor(start, [n], { dtype: 'float32', requiresGrad: true });
      const firstOpt = make([first]);
      const firstSched = new sc.optim.StepLR(firstOpt, { stepSize: 3, gamma: 0.5 });
      for (const g of grads.slice(0, 4)) {
        runSteps(firstOpt, first, [g]);
        firstSched.step();
      }
      const saved = firstOpt.stateDict();
      const savedSched = firstSched.stateDict();
      const snapshot = first.toArray();
      runSteps(firstOpt, first, grads.slice(4, 5)); // the saved copies must not follow later steps

      const fresh = sc.tensor(snapshot, [n], { requiresGrad: true });
      const freshOpt = make([fresh]);
      freshOpt.loadStateDict(saved);
      const freshSched = new sc.optim.StepLR(freshOpt, { stepSize: 3, gamma: 0.5 });
      freshSched.loadStateDict(savedSched);
      expect(freshOpt.paramGroups[0]!.lr, name).toBe(firstSched.getLastLr()[0]!);
      for (const g of grads.slice(4)) {
        runSteps(freshOpt, fresh, [g]);
        freshSched.step();
      }
      expect(Array.from(fresh.toArray()), name).toEqual(Array.from(whole.toArray()));
    }
  });

  it('holds step counts and buffers as tensors keyed by parameter index, plus hyper-parameters', () => {
    const a = sc.tensor([1, 2], [2], { requiresGrad: true });
    const b = sc.tensor([3], [1], { requiresGrad: true });
    const opt = new sc.optim.Adam([{ params: [a] }, { params: [b], lr: 0.5 }], { amsgrad: true });
    b.grad = sc.ones([1]);
    opt.step();
    opt.step();
    const sd = opt.stateDict();
    expect(Object.keys(sd.state)).toEqual(['1']);
    expect(Object.keys(sd.state[1]!).sort()).toEqual(['expAvg', 'expAvgSq', 'maxExpAvgSq', 'step']);
    expect(sd.state[1]!['step']!.item()).toBe(2);
    expect(sd.state[1]!['expAvg']!.shape).toEqual([1]);
    expect(sd.paramGroups).toEqual([
      { lr: 0.001, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: true, params: [0] },
      { lr: 0.5, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: true, params: [1] },
    ]);
  });
});

describe('schedulers', () => {
  const opt = () => new sc.optim.SGD([{ params: [sc.zeros([1], { requiresGrad: true })] }, { params: [sc.zeros([1], { requiresGrad: true })], lr: 0.01 }], { lr: 0.1 });
  it("StepLR follows PyTorch's closed form", () => {
    const o = opt();
    const s = new sc.optim.StepLR(o, { stepSize: 3, gamma: 0.5 });
    const seen: number[][] = [s.getLastLr()];
    for (let e = 1; e <= 10; e++) {
      s.step();
      seen.push(s.getLastLr());
      expect(o.paramGroups.map((g) => g.lr)).toEqual(s.getLastLr());
    }
    seen.forEach((lrs, e) => expectClose(lrs, [0.1 * 0.5 ** Math.floor(e / 3), 0.01 * 0.5 ** Math.floor(e / 3)], 1e-15, 1e-12));
  });

  it("CosineAnnealingLR follows PyTorch's closed form, and resumes from its state dict", () => {
    const o = opt();
    const s = new sc.optim.CosineAnnealingLR(o, { tMax: 7, etaMin: 0.001 });
    const expected = (base: number, e: number) => 0.001 + ((base - 0.001) * (1 + Math.cos((Math.PI * e) / 7))) / 2;
    for (let e = 0; e <= 12; e++) {
      expectClose(s.getLastLr(), [expected(0.1, e), expected(0.01, e)], 1e-15, 1e-12);
      s.step();
    }
    const o2 = opt();
    const s2 = new sc.optim.CosineAnnealingLR(o2, { tMax: 1 });
    s2.loadStateDict(s.stateDict());
    expect(s2.getLastLr()).toEqual(s.getLastLr());
    expect(o2.paramGroups.map((g) => g.lr)).toEqual(s.getLastLr());
    expect(s.stateDict()).toEqual({ tMax: 7, etaMin: 0.001, lastEpoch: 13, baseLrs: [0.1, 0.01] });
  });
});

describe('optim bad input', () => {
  const p = sc.zeros([3, 4], { requiresGrad: true });
  it('names the optimizer, the argument and the value', () => {
    expect(() => new sc.optim.SGD([p], { lr: -1 })).toThrow('SGD: expected a non-negative number for options.lr but received -1');
    expect(() => new sc.optim.SGD([p], {} as never)).toThrow('SGD: expected a non-negative number for options.lr but received undefined');
    expect(() => new sc.optim.SGD([p], { lr: 0.1, nesterov: true })).toThrow('SGD: expected false unless momentum > 0 and dampening is 0 for options.nesterov but received true');
    expect(() => new sc.optim.SGD([{ params: [p], momentum: -0.5 }], { lr: 0.1 })).toThrow('SGD: expected a non-negative number for params[0].momentum but received -0.5');
    expect(() => new sc.optim.Adam([p], { betas: [0.9, 1] })).toThrow('Adam: expected a pair [beta1, beta2] of numbers in [0, 1) for options.betas but received [0.9, 1]');
    expect(() => new sc.optim.AdamW([], {})).toThrow('AdamW: expected a non-empty array of Tensors or of parameter groups for params but received array of length 0');
    expect(() => new sc.optim.Adam([p, sc.zeros([2], { dtype: 'int32' })])).toThrow('Adam: expected a live float Tensor that is a leaf of the graph (a parameter) for params[1] but received a int32 tensor of shape [2]');
    expect(() => new sc.optim.Adam([p, p.mul(2)])).toThrow('Adam: expected a live float Tensor that is a leaf of the graph (a parameter) for params[1] but received a float32 tensor of shape [3, 4] produced by an op');
    expect(() => new sc.optim.Adam([{ params: [p] }, { params: [p] }])).toThrow('Adam: expected each parameter in one place only for params[1] but received the parameter of shape [3, 4] twice');
    expect(() => new sc.optim.StepLR(new sc.optim.SGD([p], { lr: 1 }), { stepSize: 0 })).toThrow('StepLR: expected a positive integer for options.stepSize but received 0');
  });

  it('rejects state dicts that do not fit, changing nothing', () => {
    const q = sc.zeros([2], { requiresGrad: true });
    const opt = new sc.optim.Adam([p, q]);
    p.grad = sc.ones([3, 4]);
    opt.step();
    const sd = opt.stateDict();
    const other = new sc.optim.Adam([q]);
    expect(() => other.loadStateDict(sd)).toThrow('Adam.loadStateDict: expected a group of 1 parameters (as this optimizer\'s group 0) for stateDict.paramGroups[0] but received 2 parameters');
    const swapped = new sc.optim.Adam([q, p]);
    expect(() => swapped.loadStateDict(sd)).toThrow('Adam.loadStateDict: expected a float tensor of shape [2] (parameter 0) for stateDict.state[0].expAvg but received a float32 tensor of shape [3, 4]');
    expect(() => new sc.optim.SGD([p, q], { lr: 1 }).loadStateDict(sd)).toThrow("SGD.loadStateDict: expected only momentumBuffer for stateDict.state[0] but received 'step'");
    expect(() => new sc.optim.Adam([p]).loadStateDict({ ...sd, paramGroups: [] })).toThrow('Adam.loadStateDict: expected 1 groups (as this optimizer has) for stateDict.paramGroups but received 0');
  });
});
