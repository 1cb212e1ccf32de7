import { describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';

const quiet = { print: false };

describe('summary figures', () => {
  it('regular conv: params and mult-adds = weight elements × N·H·W', () => {
    const s = sc.summary(new sc.nn.Conv2d(16, 32, 3, { padding: 1, bias: false }), [1, 16, 128, 128], quiet);
    expect(s.totalParams).toBe(4_608);
    expect(s.trainableParams).toBe(4_608);
    expect(s.multAdds).toBe(75_497_472);
    expect(s.layers).toEqual([{ name: '', type: 'Conv2d', depth: 0, outputShape: [1, 32, 128, 128], params: 4_608, multAdds: 75_497_472, leaf: true, repeated: false }]);
  });

  it('separable conv: depthwise + pointwise rows under one SeparableConv2d row', () => {
    const s = sc.summary(new sc.nn.SeparableConv2d(16, 32, 3, { padding: 1, bias: false }), [1, 16, 128, 128], quiet);
    expect(s.totalParams).toBe(656);
    expect(s.multAdds).toBe(10_747_904);
    expect(s.layers.map((l) => [l.name, l.outputShape, l.params, l.multAdds, l.leaf])).toEqual([
      ['', [1, 32, 128, 128], 656, 10_747_904, false],
      ['depthwise', [1, 16, 128, 128], 144, 2_359_296, true],
      ['pointwise', [1, 32, 128, 128], 512, 8_388_608, true],
    ]);
  });

  it('bias counts as a parameter, not a mult-add; batch multiplies mult-adds', () => {
    expect(sc.summary(new sc.nn.Conv2d(10, 32, 3), [1, 10, 8, 8], quiet).totalParams).toBe(2_912);
    const twoConv = new sc.nn.Sequential(new sc.nn.DepthwiseConv2d(10, 3), new sc.nn.PointwiseConv2d(10, 32));
    expect(sc.summary(twoConv, [1, 10, 8, 8], quiet).totalParams).toBe(452);
    expect(sc.summary(new sc.nn.SeparableConv2d(3, 64, 3, { depthwiseBias: true }), [1, 3, 8, 8], quiet).totalParams).toBe(286);
    expect(sc.summary(new sc.nn.SeparableConv2d(3, 64, 3), [1, 3, 8, 8], quiet).totalParams).toBe(283);
    const linear = sc.summary(new sc.nn.Linear(4096, 10), [8, 4096], quiet);
    expect(linear.multAdds).toBe(40_960 * 8);
    expect(sc.summary(new sc.nn.Conv2d(3, 4, 3), [5, 3, 10, 10], quiet).multAdds).toBe(108 * 5 * 64);
    // A transposed conv scatters each input pixel through the whole weight.
    expect(sc.summary(new sc.nn.ConvTranspose2d(8, 4, 2, { stride: 2 }), [2, 8, 5, 5], quiet).multAdds).toBe(128 * 2 * 25);
  });

  it('VGG DSC: the per-layer figures of the Keras experiment', () => {
    const s = sc.summary(sc.models.vgg({ conv: 'dsc' }), [1, 3, 32, 32], quiet);
    expect(s.totalParams).toBe(174_821);
    const weighted = s.layers.filter((l) => l.type === 'SeparableConv2d' || l.type === 'Linear');
    expect(weighted.map((l) => l.params)).toEqual([283, 4_736, 8_896, 17_664, 34_176, 68_096, 40_970]);
    expect(weighted.map((l) => l.outputShape)).toEqual([
      [1, 64, 32, 32], [1, 64, 32, 32], [1, 128, 16, 16], [1, 128, 16, 16], [1, 256, 8, 8], [1, 256, 8, 8], [1, 10],
    ]);
    expect(s.multAdds).toBe(18_295_808);
    expect(sc.summary(sc.models.vgg({ conv: 'regular' }), [1, 3, 32, 32], quiet).multAdds).toBe(152_805_376);
  });

  it('SegNet: totals, repeated pool/unpool calls, and buffers in the size but not the count', () => {
    const s = sc.summary(sc.models.segnet({ conv: 'regular' }), [2, 3, 64, 64], quiet);
    expect(s.totalParams).toBe(15_274_892);
    const pools = s.layers.filter((l) => l.name === 'pool');
    expect(pools.map((l) => [l.outputShape, l.repeated])).toEqual([
      [[2, 64, 32, 32], false], [[2, 128, 16, 16], true], [[2, 256, 8, 8], true], [[2, 512, 4, 4], true],
    ]);
    expect(s.layers.filter((l) => l.name === 'unpool').map((l) => l.outputShape)).toEqual([[2, 512, 8, 8], [2, 256, 16, 16], [2, 128, 32, 32], [2, 64, 64, 64]]);
    expect(s.layers.at(-1)!.outputShape).toEqual([2, 3, 64, 64]);
    // Buffers: running mean and var of 4,870 BN channels (PyTorch: 15,284,632 - 15,274,892) and 21 int32 counters.
    expect(s.paramBytes).toBe(4 * (15_274_892 + 9_740) + 4 * 21);
    expect(s.inputBytes).toBe(2 * 3 * 64 * 64 * 4);
  });

  it('MobileNet at 224×224: the paper’s 569M mult-adds (4,867M for the regular variant)', () => {
    expect(sc.summary(sc.models.mobilenet({ numClasses: 1000 }), [1, 3, 224, 224], quiet).multAdds).toBe(568_740_352);
    expect(sc.summary(sc.models.mobilenet({ conv: 'regular', numClasses: 1000 }), [1, 3, 224, 224], quiet).multAdds).toBe(4_867_293_184);
  });

  it('computes nothing: running statistics and the random stream are untouched', () => {
    const model = sc.models.segnet({ conv: 'dsc' });
    sc.manualSeed(3);
    const expected = sc.randn([4]).toArray();
    sc.manualSeed(3);
    sc.summary(model, [1, 3, 512, 512], quiet); // instant: no arithmetic at any size
    expect(sc.randn([4]).toArray()).toEqual(expected);
    expect(model.inputBn.numBatchesTracked.item()).toBe(0);
    expect(Array.from(model.inputBn.runningVar.toArray())).toEqual([1, 1, 1]);
  });

  it('fails on a bad input shape with the error a forward pass would give', () => {
    expect(() => sc.summary(sc.models.segnet(), [1, 3, 100, 100], quiet)).toThrow(
      'SegNet: expected H and W divisible by 16 (4 max-pool stages) for input but received shape [1, 3, 100, 100] (the pool after enc.2 would get [1, 256, 25, 25])',
    );
    const net = new sc.nn.Sequential(new sc.nn.Conv2d(3, 8, 3), new sc.nn.Conv2d(4, 8, 3));
    expect(() => sc.summary(net, [1, 3, 8, 8], quiet)).toThrow('1 (Conv2d): expected a 4-D [N, 4, H, W] tensor for input but received shape [1, 8, 6, 6]');
    expect(() => sc.summary(net, [1, -3], quiet)).toThrow('summary: expected an array of at most 8 non-negative integers for inputShape but received array of length 2');
  });
});

describe('summary table', () => {
  it('prints a torchinfo-style table with a tree, totals and sizes', () => {
    const s = sc.summary(sc.models.vgg({ conv: 'dsc' }), [1, 3, 32, 32], quiet);
    const lines = s.text.split('\n');
    expect(lines[1]).toMatch(/^Layer \(type\)\s+Output shape\s+Param #\s+Mult-adds$/);
    expect(lines[3]).toMatch(/^VGG\s+\[1, 10\]\s+174,821\s+18,295,808$/);
    expect(lines).toContainEqual(expect.stringMatching(/^├─features \(Sequential\)\s+\[1, 256, 4, 4\]\s+133,851\s+18,254,848$/));
    expect(lines).toContainEqual(expect.stringMatching(/^│ ├─features\.0 \(SeparableConv2d\)\s+\[1, 64, 32, 32\]\s+283\s+224,256$/));
    expect(lines).toContainEqual(expect.stringMatching(/^│ │ ├─features\.0\.depthwise \(DepthwiseConv2d\)\s+\[1, 3, 32, 32\]\s+27\s+27,648$/));
    expect(lines).toContainEqual(expect.stringMatching(/^│ ├─features\.1 \(ReLU\)\s+\[1, 64, 32, 32\]\s+--\s+--$/));
    expect(lines).toContainEqual(expect.stringMatching(/^│ └─features\.14 \(MaxPool2d\)/));
    expect(lines).toContainEqual(expect.stringMatching(/^└─fc \(Linear\)\s+\[1, 10\]\s+40,970\s+40,960$/));
    expect(s.text).toContain(
      'Total params: 174,821\nTrainable params: 174,821\nNon-trainable params: 0\nTotal mult-adds (M): 18.30\n',
    );
    expect(s.text).toContain('Input size (MB): 0.01\n');
    expect(s.text).toContain('Params size (MB): 0.70\n');
    // torchinfo's estimate: outputs of layers with parameters, ×2 for their gradients.
    const depthwiseOutputs = 3 * 32 * 32 + 64 * 32 * 32 + 64 * 16 * 16 + 128 * 16 * 16 + 128 * 8 * 8 + 256 * 8 * 8;
    const pointwiseOutputs = 2 * 64 * 32 * 32 + 2 * 128 * 16 * 16 + 2 * 256 * 8 * 8;
    expect(s.forwardBackwardBytes).toBe(2 * 4 * (depthwiseOutputs + pointwiseOutputs + 10));
  });

  it('depth limits the rows shown, not the totals; repeated calls show (recursive)', () => {
    const s = sc.summary(sc.models.segnet({ conv: 'dsc' }), [1, 3, 32, 32], { print: false, depth: 1 });
    expect(s.layers.some((l) => l.depth === 2)).toBe(true);
    expect(s.text).not.toContain('enc.0.0');
    expect(s.text).toContain('Total params: 1,749,671');
    const shared = new sc.nn.Linear(3, 3);
    const text = sc.summary(new sc.nn.Sequential(shared, shared), [1, 3], quiet).text;
    expect(text).toMatch(/├─0 \(Linear\)\s+\[1, 3\]\s+12\s+9\n└─0 \(Linear\)\s+\[1, 3\]\s+\(recursive\)\s+9\n/);
    expect(text).toContain('Total params: 12\n');
  });

  it('prints by default', () => {
    const logged: string[] = [];
    const original = console.log;
    console.log = (text: string) => logged.push(text);
    try {
      sc.summary(new sc.nn.ReLU(), [2, 2]);
    } finally {
      console.log = original;
    }
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain('ReLU');
  });

  it('compares two variants with per-layer and total ratios', () => {
    const regular = sc.summary(sc.models.vgg({ conv: 'regular' }), [1, 3, 32, 32], quiet);
    const dsc = sc.summary(sc.models.vgg({ conv: 'dsc' }), [1, 3, 32, 32], quiet);
    const text = sc.compareSummaries(regular, dsc, ['regular', 'dsc']);
    expect(text).toMatch(/Layer \(type\)\s+Output shape\s+Params regular\s+Params dsc\s+dsc\/regular\s+Mult-adds regular\s+Mult-adds dsc\s+dsc\/regular/);
    expect(text).toMatch(/ {4}features\.0 \(Conv2d → SeparableConv2d\)\s+\[1, 64, 32, 32\]\s+1,792\s+283\s+0\.158\s+1,769,472\s+224,256\s+0\.127/);
    expect(text).toMatch(/ {2}fc \(Linear\)\s+\[1, 10\]\s+40,970\s+40,970\s+1\.000/);
    expect(text).not.toContain('ReLU');
    expect(text).toContain('Total params: 1,186,378 (regular) vs 174,821 (dsc), dsc/regular = 0.147');
    expect(text).toContain('Total mult-adds: 152,805,376 (regular) vs 18,295,808 (dsc), dsc/regular = 0.120');
  });
});
