import { describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';

const { Module, Sequential, ModuleList, Conv2d, BatchNorm2d, Linear, ReLU } = sc.nn;

class Block extends Module {
  readonly conv = this.registerModule('conv', new Conv2d(3, 4, 3, { padding: 1 }));
  readonly bn = this.registerModule('bn', new BatchNorm2d(4));
  forward(x: sc.Tensor): sc.Tensor {
    return this.bn.call(this.conv.call(x));
  }
}

class Net extends Module {
  readonly enc = this.registerModule('enc', new Sequential(new Block(), new ReLU()));
  readonly head = this.registerModule('head', new Linear(4, 2));
  readonly scale = this.registerParameter('scale', sc.ones([1]));
  forward(x: sc.Tensor): sc.Tensor {
    return this.head.call(this.enc.call(x).mean([2, 3])).mul(this.scale);
  }
}

const values = (t: sc.Tensor): number[] => Array.from(t.toArray() as Float32Array);

describe('Module registration and traversal', () => {
  it('names parameters and buffers with PyTorch dotted paths, own tensors first', () => {
    const net = new Net();
    expect(net.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([
      ['scale', [1]],
      ['enc.0.conv.weight', [4, 3, 3, 3]],
      ['enc.0.conv.bias', [4]],
      ['enc.0.bn.weight', [4]],
      ['enc.0.bn.bias', [4]],
      ['head.weight', [2, 4]],
      ['head.bias', [2]],
    ]);
    expect(net.namedBuffers().map(([n]) => n)).toEqual(['enc.0.bn.running_mean', 'enc.0.bn.running_var', 'enc.0.bn.num_batches_tracked']);
    expect(net.parameters().every((p) => p.requiresGrad)).toBe(true);
    expect(net.buffers().some((b) => b.requiresGrad)).toBe(false);
    expect(net.namedModules().map(([n, m]) => `${n}:${m.constructor.name}`)).toEqual([
      ':Net',
      'enc:Sequential',
      'enc.0:Block',
      'enc.0.conv:Conv2d',
      'enc.0.bn:BatchNorm2d',
      'enc.1:ReLU',
      'head:Linear',
    ]);
    expect(net.namedChildren().map(([n]) => n)).toEqual(['enc', 'head']);
    expect(net.children()).toEqual([net.enc, net.head]);
    expect(net.modules()).toHaveLength(7);
    expect(net.enc.at(0).path).toBe('enc.0');
    expect(net.enc.at(0).label()).toBe('enc.0 (Block)');
    expect(net.label()).toBe('Net');
  });

  it('lists a shared module and its parameters once', () => {
    const shared = new Linear(3, 3);
    const seq = new Sequential(shared, new ReLU(), shared);
    expect(seq.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias']);
    expect(seq.modules()).toHaveLength(3);
  });

  it('refuses duplicate and dotted names', () => {
    class Bad extends Module {
      constructor(name: string) {
        super();
        this.registerParameter('w', sc.zeros([1]));
        this.registerBuffer(name, sc.zeros([1]));
      }
      forward(x: sc.Tensor): sc.Tensor {
        return x;
      }
    }
    expect(() => new Bad('w')).toThrow("Bad: 'w' is already registered");
    expect(() => new Bad('a.b')).toThrow("Bad: expected a non-empty name without dots for name but received 'a.b'");
  });

  it('keeps parameters and buffers of a model built inside a scope alive', () => {
    const net = sc.scope(() => new Net());
    expect(net.parameters().every((p) => !p.isDisposed)).toBe(true);
    expect(net.buffers().every((b) => !b.isDisposed)).toBe(true);
  });

  it('switches train/eval mode recursively', () => {
    const net = new Net();
    expect(net.modules().every((m) => m.training)).toBe(true);
    expect(net.eval()).toBe(net);
    expect(net.modules().some((m) => m.training)).toBe(false);
    net.train();
    expect(net.enc.at(0).training).toBe(true);
  });

  it('zeroGrad frees and clears every gradient', () => {
    const net = new Net();
    const grads = net.parameters().map((p) => (p.grad = sc.ones(p.shape)));
    net.zeroGrad();
    expect(net.parameters().every((p) => p.grad === null)).toBe(true);
    expect(grads.every((g) => g.isDisposed)).toBe(true);
  });

  it('to(device): cpu is a no-op; cuda without a usable backend and unknown devices fail by name', () => {
    const net = new Net();
    expect(net.to('cpu')).toBe(net);
    if (!sc.backend().cuda)
      expect(() => net.to('cuda')).toThrow(/^Net\.to\('cuda'\): cannot use device 'cuda': (this build has no usable CUDA backend|no CUDA device is visible)/);
    expect(() => net.to('tpu' as 'cpu')).toThrow("Net.to: expected 'cpu' or 'cuda' for device but received 'tpu'");
  });

  it('prints its structure like PyTorch', () => {
    const seq = new Sequential(new Conv2d(3, 8, 3, { stride: 2, bias: false }), new ReLU());
    expect(String(seq)).toBe('Sequential(\n  (0): Conv2d(3, 8, kernelSize=[3, 3], stride=[2, 2], bias=false)\n  (1): ReLU()\n)');
  });
});

describe('containers', () => {
  it('Sequential is indexable and iterable; children are named 0, 1, …', () => {
    const a = new ReLU();
    const b = new Linear(2, 2);
    const seq = new Sequential(a, b);
    expect(seq.length).toBe(2);
    expect(seq.at(0)).toBe(a);
    expect(seq.at(-1)).toBe(b);
    expect([...seq]).toEqual([a, b]);
    seq.append(new ReLU());
    expect(seq.namedChildren().map(([n]) => n)).toEqual(['0', '1', '2']);
    expect(() => seq.at(3)).toThrow('Sequential.at: expected an integer in [-3, 2] for index but received 3');
  });

  it('ModuleList registers its modules but is not callable', () => {
    const list = new ModuleList([new Linear(2, 3), new Linear(3, 1)]);
    expect(list.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias', '1.weight', '1.bias']);
    expect(() => list.forward()).toThrow('ModuleList: a ModuleList is not callable; call the modules it holds');
  });
});

describe('state dicts', () => {
  it("lists each module's parameters then buffers (PyTorch's order), sharing memory with the module", () => {
    const net = new Net();
    const dict = net.stateDict();
    expect(Object.keys(dict)).toEqual([
      'scale',
      'enc.0.conv.weight',
      'enc.0.conv.bias',
      'enc.0.bn.weight',
      'enc.0.bn.bias',
      'enc.0.bn.running_mean',
      'enc.0.bn.running_var',
      'enc.0.bn.num_batches_tracked',
      'head.weight',
      'head.bias',
    ]);
    expect(dict['enc.0.bn.num_batches_tracked']!.dtype).toBe('int32');
    expect(dict['head.weight']!.requiresGrad).toBe(false);
    sc.nn.init.constant_(net.head.weight, 3);
    expect(values(dict['head.weight']!)).toEqual([3, 3, 3, 3, 3, 3, 3, 3]);
    dict['head.weight']!.dispose(); // an alias: the module keeps its own
    expect(net.head.weight.isDisposed).toBe(false);
  });

  it('round-trips every parameter and buffer between two models', () => {
    sc.manualSeed(1);
    const a = new Net();
    sc.nn.init.uniform_(a.enc.at(0).buffers()[0]!, -1, 1);
    sc.manualSeed(2);
    const b = new Net();
    expect(values(b.head.weight)).not.toEqual(values(a.head.weight));
    expect(b.loadStateDict(a.stateDict())).toEqual({ missingKeys: [], unexpectedKeys: [] });
    const bDict = b.stateDict();
    for (const [name, t] of Object.entries(a.stateDict())) expect(values(bDict[name]!), name).toEqual(values(t));
    // A Map works too, and float64 sources are converted.
    const asDouble = new Map(Object.entries(a.stateDict()).map(([n, t]) => [n, sc.tensor(Float64Array.from(t.toArray()), t.shape)] as const));
    expect(() => b.loadStateDict(asDouble)).not.toThrow();
  });

  it('reports missing, unexpected and mis-shaped tensors by name, and loads nothing', () => {
    const net = new Net();
    const before = values(net.head.weight);
    const dict = net.stateDict();
    delete dict['enc.0.conv.bias'];
    delete dict['enc.0.bn.running_var'];
    dict['extra.weight'] = sc.zeros([3]);
    dict['head.weight'] = sc.zeros([2, 5]);
    dict['head.bias'] = [1, 2] as unknown as sc.Tensor;
    dict['scale'] = sc.full([1], 7);
    expect(() => net.loadStateDict(dict)).toThrow(
      'Net.loadStateDict: the state dict does not fit (nothing was loaded)\n' +
        '  head.weight: expected shape [2, 4] but received [2, 5]\n' +
        '  head.bias: expected a live Tensor but received array of length 2\n' +
        '  missing: enc.0.conv.bias, enc.0.bn.running_var\n' +
        '  unexpected: extra.weight',
    );
    expect(values(net.head.weight)).toEqual(before);
    expect(values(net.scale)).toEqual([1]);
  });

  it('strict: false allows missing and unexpected names but not wrong shapes', () => {
    const net = new Net();
    const result = net.loadStateDict({ scale: sc.full([1], 5), 'other.bias': sc.zeros([2]) }, { strict: false });
    expect(values(net.scale)).toEqual([5]);
    expect(result.unexpectedKeys).toEqual(['other.bias']);
    expect(result.missingKeys).toHaveLength(9);
    expect(() => net.loadStateDict({ scale: sc.zeros([2]) }, { strict: false })).toThrow(
      'Net.loadStateDict: the state dict does not fit (nothing was loaded)\n  scale: expected shape [1] but received [2]',
    );
  });
});
