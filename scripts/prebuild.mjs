// Builds the prebuilt binaries that ship in the npm package, with prebuildify (N-API, so one
// binary per platform/arch serves every Node >= 20; node-gyp-build picks it at load time):
//   prebuilds/<platform>-<arch>/sepconv[.glibc|.musl].node   (the libc tag only on Linux)
// Usage: npm run prebuild [-- ARCH...]   (npm run puts npm's own node-gyp on PATH)
//   no ARCH: the host's arch, plus arm64 cross-compiled when the host is linux-x64 and the
//   aarch64-linux-gnu cross tools are installed (apt-get install crossbuild-essential-arm64).
// Each build runs in a staging copy of the build inputs under build/prebuild/, because
// prebuildify runs `node-gyp rebuild`, which would replace build/Release (the development
// addon, which node-gyp-build prefers over prebuilds) with a binary of another arch.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, openSync, readSync, closeSync, readdirSync, rmSync } from 'node:fs';
import { arch as hostArch, availableParallelism, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const buildInputs = ['package.json', 'binding.gyp', 'native', 'scripts/list-sources.mjs'];
const crossTools = { arm64: 'aarch64-linux-gnu' };
// ELF e_machine of each Linux arch: a cross build that silently used the host compiler would
// otherwise ship an x86-64 binary named linux-arm64.
const elfMachine = { x64: 62, arm64: 183 };

function onPath(tool) {
  return spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
}

function canCrossCompile(arch) {
  return platform() === 'linux' && hostArch() === 'x64' && arch in crossTools && onPath(`${crossTools[arch]}-g++`);
}

function requestedArches() {
  const args = process.argv.slice(2);
  if (args.length > 0) return args;
  return [hostArch(), ...Object.keys(crossTools).filter((a) => a !== hostArch() && canCrossCompile(a))];
}

function crossEnv(arch) {
  if (arch === hostArch()) return {};
  if (!canCrossCompile(arch)) {
    throw new Error(
      `prebuild: cannot build ${platform()}-${arch} here: cross builds need a linux-x64 host with ` +
        `${crossTools[arch] ?? '<no known cross toolchain>'}-g++ (apt-get install crossbuild-essential-${arch})`,
    );
  }
  const t = crossTools[arch];
  return { CC: `${t}-gcc`, CXX: `${t}-g++`, LINK: `${t}-g++`, AR: `${t}-ar`, STRIP: `${t}-strip` };
}

function elfMachineOf(file) {
  const header = Buffer.alloc(20);
  const fd = openSync(file, 'r');
  readSync(fd, header, 0, 20, 0);
  closeSync(fd);
  if (header.readUInt32BE(0) !== 0x7f454c46) return -1;
  return header.readUInt16LE(18);
}

function prebuild(arch) {
  const stage = join(root, 'build', 'prebuild', `${platform()}-${arch}`);
  rmSync(stage, { recursive: true, force: true });
  for (const input of buildInputs) cpSync(join(root, input), join(stage, input), { recursive: true });
  const args = [
    require.resolve('prebuildify/bin.js'),
    '--napi',
    `--target=${process.versions.node}`,
    `--arch=${arch}`,
    `--cwd=${stage}`,
    `--out=${root}`,
    ...(platform() === 'linux' ? ['--tag-libc'] : []),
  ];
  const env = {
    ...process.env,
    ...crossEnv(arch),
    JOBS: process.env.JOBS ?? String(availableParallelism()),
  };
  console.log(`== prebuild ${platform()}-${arch} (${env.JOBS} jobs${env.CXX ? `, ${env.CXX}` : ''})`);
  const run = spawnSync(process.execPath, args, { stdio: 'inherit', env });
  if (run.status !== 0) throw new Error(`prebuild: prebuildify failed for ${platform()}-${arch} (exit ${run.status})`);

  const dir = join(root, 'prebuilds', `${platform()}-${arch}`);
  const binaries = readdirSync(dir).filter((f) => f.endsWith('.node'));
  for (const name of binaries) {
    const file = join(dir, name);
    if (platform() === 'linux' && elfMachineOf(file) !== elfMachine[arch])
      throw new Error(`prebuild: ${file} is not an ELF binary for ${arch} (e_machine ${elfMachineOf(file)})`);
    console.log(`   ${file}`);
  }
}

try {
  mkdirSync(join(root, 'prebuilds'), { recursive: true });
  for (const arch of requestedArches()) prebuild(arch);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
