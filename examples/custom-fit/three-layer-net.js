// A user's own network for `sc.train.fit`: an nn.Module subclass, built in the training worker
// by `createModel(options)` (fit names it by module and export; a live module cannot cross threads).
import * as sc from 'sepconv';

/** conv 3×3 → ReLU → conv 3×3 stride 2 → ReLU → linear: three layers with weights. */
export class ThreeLayerNet extends sc.nn.Module {
  constructor({ channels = 3, size = 16, width = 8, classes = 2 } = {}) {
    super();
    this.conv1 = this.registerModule('conv1', new sc.nn.Conv2d(channels, width, 3, { padding: 1 }));
    this.conv2 = this.registerModule('conv2', new sc.nn.Conv2d(width, 2 * width, 3, { stride: 2, padding: 1 }));
    this.fc = this.registerModule('fc', new sc.nn.Linear(2 * width * (size / 2) ** 2, classes));
  }

  forward(x) {
    const h = sc.F.relu(this.conv2.call(sc.F.relu(this.conv1.call(x))));
    return this.fc.call(h.reshape([x.shape[0], h.numel / x.shape[0]]));
  }
}

export function createModel(options) {
  return new ThreeLayerNet(options);
}
