// npm's install hook. When the addon that node-gyp-build picks for this platform/arch/libc (a
// prebuilt binary, or an earlier source build in build/Release) loads, nothing is compiled.
// Otherwise: one notice line, then node-gyp builds from source with one compiler job per core
// ($JOBS overrides), and if that fails, a message naming the missing tools and the platforms
// that have prebuilt binaries. `npm rebuild sepconv --build-from-source` always compiles.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, openSync, readdirSync, writeSync } from 'node:fs';
import { availableParallelism, arch, platform } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const nodeGypBuild = require('node-gyp-build');

// CPU time of a full source build for the notice: about 2.8 min on this project's Xeon (x64,
// with the AVX-512 and AVX2 units; an arm64 cross build takes 1.3).
const sourceBuildCpuMinutes = 3;
const target = `${platform()}-${arch()}`;
// As node-gyp-build tells glibc from musl.
const libc = platform() === 'linux' ? process.env.LIBC || (isAlpine() ? 'musl' : 'glibc') : '';

function isAlpine() {
  try {
    accessSync('/etc/alpine-release');
    return true;
  } catch {
    return false;
  }
}

/** Why the addon node-gyp-build would load does not load here, or '' when it does. */
function loadFailure() {
  let file;
  try {
    file = nodeGypBuild.resolve(root);
  } catch {
    return `no prebuilt binary for ${target}${libc ? ` (${libc})` : ''}`;
  }
  // In a child process: a binary built for a newer CPU or libc may crash rather than throw.
  const probe = spawnSync(process.execPath, ['-e', 'require(process.argv[1])', file], { encoding: 'utf8' });
  if (probe.status === 0) return '';
  const reason = (probe.stderr.split('\n').find((l) => /Error/.test(l)) ?? `exit ${probe.status ?? probe.signal}`).trim();
  return `${file} does not load here (${reason})`;
}

function buildFromSourceRequested() {
  const flag = process.env.npm_config_build_from_source;
  return flag === 'true' || flag === 'sepconv';
}

/** The notice must reach the user, but npm captures a dependency's install output and shows it
 *  only on failure: so it also goes to the terminal, when there is one. */
function notice(line) {
  process.stderr.write(line + '\n');
  if (process.stderr.isTTY || platform() === 'win32') return;
  try {
    writeSync(openSync('/dev/tty', 'w'), line + '\n');
  } catch {
    // no controlling terminal (CI): stderr is all there is
  }
}

/** Whether `name` (a command, or a path) is an executable found as the shell would. */
function onPath(name) {
  if (name.includes('/')) return isExecutable(name);
  const exts = platform() === 'win32' ? (process.env.PATHEXT ?? '.EXE;.CMD').split(';') : [''];
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    if (exts.some((ext) => isExecutable(join(dir, name + ext)))) return true;
  }
  return false;
}

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function missingTools() {
  const missing = [];
  if (platform() === 'win32') {
    // node-gyp finds Visual Studio itself (vswhere); its output above says whether it did.
    if (!['python3', 'python', 'py'].some(onPath) && !process.env.npm_config_python) missing.push('Python 3');
    return missing;
  }
  const cxx = process.env.CXX ? [process.env.CXX.split(' ')[0]] : ['c++', 'g++', 'clang++'];
  if (!cxx.some(onPath)) missing.push(`a C++17 compiler (${process.env.CXX ? `CXX=${process.env.CXX}` : 'c++, g++ or clang++'})`);
  if (!onPath('make')) missing.push('make');
  const python = process.env.npm_config_python ?? process.env.PYTHON;
  if (!onPath(python ?? 'python3')) missing.push(python ? `python3 (PYTHON=${python})` : 'python3');
  return missing;
}

function prebuiltPlatforms() {
  let dirs = [];
  try {
    dirs = readdirSync(join(root, 'prebuilds'));
  } catch {
    return 'none in this copy (a source checkout; the npm package carries them, see the README\'s "Install")';
  }
  return dirs
    .map((dir) => {
      const libcs = readdirSync(join(root, 'prebuilds', dir)).flatMap((f) => f.match(/\.(glibc|musl)\.node$/)?.[1] ?? []);
      return libcs.length ? `${dir} (${libcs.join(', ')})` : dir;
    })
    .join(', ');
}

function installHint() {
  if (platform() === 'darwin') return 'xcode-select --install';
  if (platform() === 'win32') return 'Visual Studio 2022 with "Desktop development with C++", and Python 3';
  return isAlpine() ? 'apk add build-base python3' : 'apt-get install g++ make python3, or your distribution\'s equivalent';
}

function nodeGypCommand() {
  // npm sets npm_config_node_gyp to its bundled node-gyp for install scripts.
  const bundled = process.env.npm_config_node_gyp;
  return bundled ? [process.execPath, [bundled]] : ['node-gyp', []];
}

const failure = buildFromSourceRequested() ? 'building from source as requested' : loadFailure();
if (failure === '') process.exit(0);

const cores = availableParallelism();
const jobs = process.env.JOBS ?? String(cores);
const minutes = Math.max(1, Math.round(sourceBuildCpuMinutes / Math.min(cores, Number(jobs) || cores)));
notice(`sepconv: ${failure}; compiling from source, about ${minutes} min on ${cores} cores (JOBS=${jobs})`);

const [command, prefix] = nodeGypCommand();
const build = spawnSync(command, [...prefix, 'rebuild', '--release', `--jobs=${jobs}`], {
  cwd: root,
  stdio: 'inherit',
  shell: platform() === 'win32' && command === 'node-gyp',
});
if (build.status === 0) process.exit(0);

const missing = missingTools();
const why = build.error ? `could not run node-gyp (${build.error.message})` : `node-gyp exited with ${build.status ?? build.signal}`;
console.error(
  [
    `sepconv: the source build failed: ${why}.`,
    missing.length
      ? `  Missing: ${missing.join(', ')}. Install them (${installHint()}), then run \`npm rebuild sepconv\`.`
      : '  The compiler, make and python3 are on PATH: see node-gyp\'s output above for the error.',
    `  Prebuilt binaries (no compiler needed) in this package: ${prebuiltPlatforms()}.`,
  ].join('\n'),
);
process.exit(1);
