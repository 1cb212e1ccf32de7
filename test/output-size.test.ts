// One output-size helper per language, checked against each other on every small geometry
// (the C++ one through the addon), and against the shapes the ops accept.
import { describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';
import { outputSize } from '../dist/functional/output-size.js';
import { native } from '../dist/native.js';

describe('outputSize', () => {
  it('is the same in TypeScript and C++ for every small geometry, floor and ceil mode', () => {
    let checked = 0;
    for (let size = 0; size <= 9; size++)
      for (let kernel = 1; kernel <= 4; kernel++)
        for (let stride = 1; stride <= 3; stride++)
          for (let pad = 0; pad <= 2; pad++)
            for (let dilation = 1; dilation <= 3; dilation++)
              for (const ceil of [false, true]) {
                const ts = outputSize(size, kernel, stride, pad, dilation, ceil);
                const cpp = native.outputSize(size, kernel, stride, pad, dilation, ceil);
                if (ts !== cpp) throw new Error(`outputSize(${size}, ${kernel}, ${stride}, ${pad}, ${dilation}, ${ceil}): TS ${ts}, C++ ${cpp}`);
                checked++;
              }
    expect(checked).toBe(10 * 4 * 3 * 3 * 3 * 2);
  });

  it("is PyTorch's formula (floor, and ceil mode dropping a window that starts in the padding)", () => {
    expect(outputSize(32, 3, 1, 1, 1)).toBe(32);
    expect(outputSize(7, 3, 2, 0, 2)).toBe(2);
    expect(outputSize(5, 2, 2, 0, 1, true)).toBe(3);
    expect(outputSize(4, 2, 2, 1, 1, true)).toBe(3);
    expect(outputSize(2, 5, 1, 1, 1)).toBeLessThan(1);
  });

  it('gives the shapes the native checks accept for conv2d, depthwise conv2d and max pooling', () => {
    const x = sc.randn([1, 2, 9, 7]);
    for (const [stride, padding, dilation] of [[1, 0, 1], [2, 1, 1], [3, 2, 2], [2, 0, 3]] as const) {
      const y = sc.F.conv2d(x, sc.randn([3, 2, 3, 2]), null, { stride, padding, dilation });
      expect(y.shape).toEqual([1, 3, outputSize(9, 3, stride, padding, dilation), outputSize(7, 2, stride, padding, dilation)]);
      const d = sc.F.conv2d(x, sc.randn([4, 1, 3, 3]), null, { stride, padding, dilation, groups: 2 });
      expect(d.shape).toEqual([1, 4, outputSize(9, 3, stride, padding, dilation), outputSize(7, 3, stride, padding, dilation)]);
    }
    const { output } = sc.F.maxPool2d(x, { kernelSize: 2, stride: 2, ceilMode: true });
    expect(output.shape).toEqual([1, 2, outputSize(9, 2, 2, 0, 1, true), outputSize(7, 2, 2, 0, 1, true)]);
  });
});
