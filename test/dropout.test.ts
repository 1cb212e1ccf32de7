/** dropout and dropout2d: inverted scaling, reproducible masks, identity in eval. */
import { describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';

describe('dropout', () => {
  it('zeroes about p of the elements and scales the rest by 1 / (1 - p), in both dtypes', () => {
    for (const dtype of ['float32', 'float64'] as const)
      for (const p of [0.1, 0.5, 0.8]) {
        const y = sc.F.dropout(sc.ones([200_000], { dtype }), p, true).toArray();
        const kept = dtype === 'float32' ? Math.fround(1 / (1 - p)) : 1 / (1 - p);
        const zeros = y.filter((v) => v === 0).length;
        expect(y.filter((v) => v === kept).length).toBe(y.length - zeros);
        // 200k Bernoulli draws: the standard deviation of the fraction is < 0.0012.
        expect(Math.abs(zeros / y.length - p)).toBeLessThan(0.006);
      }
  });

  it('is reproducible under manualSeed and continues the stream', () => {
    const x = sc.ones([1000]);
    sc.manualSeed(7);
    const a = Array.from(sc.F.dropout(x, 0.5).toArray());
    const b = Array.from(sc.F.dropout(x, 0.5).toArray());
    sc.manualSeed(7);
    expect(Array.from(sc.F.dropout(x, 0.5).toArray())).toEqual(a);
    expect(b).not.toEqual(a);
  });

  it('is the identity in eval mode or with p = 0, and zeroes everything with p = 1', () => {
    const x = sc.randn([4, 5]);
    expect(sc.F.dropout(x, 0.5, false)).toBe(x);
    expect(sc.F.dropout(x, 0, true)).toBe(x);
    expect(sc.F.dropout(x, 1, true).toArray().every((v) => v === 0)).toBe(true); // -0 where x < 0, as x * 0 in PyTorch
  });

  it('passes the gradient through the same mask', () => {
    const x = sc.randn([3, 400], { dtype: 'float64', requiresGrad: true });
    const y = sc.F.dropout(x, 0.3, true);
    const g = sc.randn([3, 400], { dtype: 'float64' });
    y.backward(g);
    const [yv, xv, gv, dx] = [y.toArray(), x.toArray(), g.toArray(), x.grad!.toArray()];
    for (let i = 0; i < yv.length; i++) {
      const scale = yv[i]! / xv[i]!; // 0 or 1 / 0.7
      expect(dx[i]).toBeCloseTo(gv[i]! * scale, 10);
    }
  });

  it('rejects bad arguments with messages naming them', () => {
    expect(() => sc.F.dropout(sc.ones([2]), 1.5)).toThrow('dropout: expected a probability in [0, 1] for p but received 1.5');
    expect(() => sc.F.dropout(sc.ones([2]), 0.5, 'yes' as never)).toThrow("dropout: expected a boolean for training but received 'yes'");
    expect(() => sc.F.dropout(sc.ones([2], { dtype: 'int32' }), 0.5)).toThrow(
      'dropout: expected a float32 or float64 tensor for input but received a int32 tensor of shape [2]',
    );
  });
});

describe('dropout2d', () => {
  it('drops whole channels per sample', () => {
    sc.manualSeed(3);
    const x = sc.ones([4, 50, 3, 3], { requiresGrad: true });
    const y = sc.F.dropout2d(x, 0.5, true);
    const v = y.toArray();
    let dropped = 0;
    for (let plane = 0; plane < 200; plane++) {
      const values = new Set(Array.from(v.slice(plane * 9, plane * 9 + 9)));
      expect(values.size).toBe(1); // one draw per (sample, channel)
      if (values.has(0)) dropped++;
      else expect([...values][0]).toBe(2);
    }
    expect(dropped).toBeGreaterThan(60);
    expect(dropped).toBeLessThan(140);
    y.sum().backward();
    expect(Array.from(x.grad!.toArray())).toEqual(Array.from(v)); // d(sum)/dx = the mask
  });

  it('rejects a tensor that is not NCHW', () => {
    expect(() => sc.F.dropout2d(sc.ones([2, 3]), 0.5)).toThrow('dropout2d: expected a 4-D tensor (N, C, H, W) for input but received shape [2, 3]');
  });
});
