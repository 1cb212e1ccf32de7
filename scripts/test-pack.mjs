// npm run test:pack [-- --tarball FILE]: the package as its users get it, installed where no
// compiler exists.
//   1. npm run prebuild (the host's arch, plus linux-arm64 when the cross tools are installed)
//      and npm pack; with --tarball, an already packed file instead (the release workflow's).
//   2. the tarball's file list holds only what users need (see `allowed`) and its size is
//      checked against a ceiling.
//   3. an empty project in a temp dir installs the tarball (its dependencies come from the
//      registry) with a PATH of symlinks to node, npm and sh only: no cc, c++, g++, gcc, make or
//      python3, so a compile attempt fails.
//   4. a script there imports sepconv, trains two steps of a DSC VGG on random data, checks
//      the losses are finite and the addon came from prebuilds/; nothing was compiled.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const hiddenTools = ['cc', 'c++', 'g++', 'gcc', 'clang', 'clang++', 'make', 'python3', 'python'];
// What a user needs: the compiled library, the prebuilt binaries, and the sources + build files
// of the source fallback (scripts/install.mjs runs node-gyp on binding.gyp, which lists its
// sources with scripts/list-sources.mjs; the addon includes the CUDA backend's ABI header).
// Not lib/*.ts: dist/ has the .d.ts types, and its source maps still map stack traces to
// lib/*.ts lines. Not the CUDA sources or CMakeLists.txt: the opt-in CUDA build runs in a
// clone (README, "Install").
const allowed = [
  /^package\.json$/,
  /^README\.md$/,
  /^LICENSE(\.md)?$/,
  /^dist\/.+\.(js|d\.ts|js\.map)$/,
  /^prebuilds\/(linux|darwin|win32)-(x64|arm64)\/sepconv(\.(glibc|musl))?\.node$/,
  /^binding\.gyp$/,
  /^native\/(addon|core|cpu)\/.+\.(cc|h|inl|inc)$/,
  /^native\/cuda\/runtime\/abi\.h$/,
  /^scripts\/(install|list-sources)\.mjs$/,
];
const required = ['package.json', 'dist/index.js', 'dist/index.d.ts', 'binding.gyp', 'scripts/install.mjs', 'scripts/list-sources.mjs'];
// Today ~1.3 MB packed per prebuild plus ~0.6 MB of JS and sources: room for the release's six
// prebuilds, while a stray data set, build/ directory or test fixture would overshoot it.
const maxPackedBytes = 12 * 1024 * 1024;

function fail(message) {
  throw new Error(message);
}

function which(name, path) {
  for (const dir of path.split(delimiter).filter(Boolean)) if (existsSync(join(dir, name))) return join(dir, name);
  return undefined;
}

/** The environment of a user's shell: none of the variables npm sets for the script running this. */
function userEnv(path) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'INIT_CWD'));
  return { ...env, PATH: path };
}

function run(command, args, options) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.status !== 0) fail(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal}`);
  return result;
}

const work = mkdtempSync(join(tmpdir(), 'sepconv-pack-'));
try {
  // 1. the tarball
  const tarballArg = process.argv.indexOf('--tarball');
  let tarball;
  if (tarballArg >= 0) {
    tarball = resolve(process.argv[tarballArg + 1] ?? fail('--tarball needs a file'));
  } else {
    run('npm', ['run', 'prebuild'], { cwd: root });
    run('npm', ['run', 'build:ts'], { cwd: root });
    const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: root, encoding: 'utf8' }));
    tarball = join(work, packed[0].filename);
  }

  // 2. its contents
  const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
    .split('\n')
    .filter((f) => f && !f.endsWith('/'))
    .map((f) => f.replace(/^package\//, ''));
  const unexpected = files.filter((f) => !allowed.some((re) => re.test(f)));
  if (unexpected.length) fail(`the tarball holds files users do not need:\n  ${unexpected.join('\n  ')}`);
  const host = `${platform()}-${arch()}`;
  const missing = required.filter((f) => !files.includes(f));
  if (!files.some((f) => f.startsWith(`prebuilds/${host}/`))) missing.push(`prebuilds/${host}/*.node`);
  if (missing.length) fail(`the tarball lacks ${missing.join(', ')}`);
  const packedBytes = Number(execFileSync('wc', ['-c', tarball], { encoding: 'utf8' }).trim().split(/\s+/)[0]);
  if (packedBytes > maxPackedBytes) fail(`the tarball is ${packedBytes} bytes, above the ${maxPackedBytes} ceiling`);
  const prebuilds = files.filter((f) => f.startsWith('prebuilds/'));
  console.log(`== ${tarball}: ${files.length} files, ${(packedBytes / 1e6).toFixed(2)} MB packed; prebuilds: ${prebuilds.join(', ')}`);

  // 3. a PATH with node and npm only, then the install
  const bin = join(work, 'bin');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  symlinkSync(realpathSync(which('npm', process.env.PATH ?? '') ?? fail('npm is not on PATH')), join(bin, 'npm'));
  symlinkSync('/bin/sh', join(bin, 'sh')); // npm runs install scripts with the sh on PATH
  const present = hiddenTools.filter((t) => which(t, bin));
  if (present.length) fail(`the compiler-free PATH still has ${present.join(', ')}`);
  const project = join(work, 'project');
  mkdirSync(project);
  // allowScripts: npm 11 skips a dependency's install script unless the project approves it;
  // approved (or on older npm) scripts/install.mjs runs, finds the prebuild loads, compiles nothing.
  const manifest = { name: 'sepconv-pack-check', private: true, type: 'module', allowScripts: { sepconv: true } };
  writeFileSync(join(project, 'package.json'), JSON.stringify(manifest));
  const env = userEnv(bin);
  console.log(`== npm install ${tarball} in ${project} (PATH=${bin}: node, npm, sh)`);
  run('npm', ['install', '--no-audit', '--no-fund', '--foreground-scripts', tarball], { cwd: project, env });
  const installed = join(project, 'node_modules', 'sepconv');
  if (existsSync(join(installed, 'build'))) fail(`the install compiled something: ${join(installed, 'build')} exists`);

  // 4. use it
  writeFileSync(
    join(project, 'check.mjs'),
    `import * as sc from 'sepconv';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
const packageJson = createRequire(import.meta.url).resolve('sepconv/package.json');
const addon = createRequire(packageJson)('node-gyp-build').resolve(dirname(packageJson));
sc.manualSeed(0);
const model = sc.models.vgg({ conv: 'dsc' });
const optimizer = new sc.optim.Adam(model.parameters(), { lr: 1e-3 });
const images = sc.randn([8, 3, 32, 32]);
const labels = sc.tensor(Int32Array.from({ length: 8 }, (_, i) => i % 10), [8]);
const losses = [];
for (let step = 0; step < 2; ++step) {
  optimizer.zeroGrad();
  const loss = sc.F.crossEntropy(model.call(images), labels);
  loss.backward();
  optimizer.step();
  losses.push(loss.item());
}
console.log(JSON.stringify({ losses, addon, isa: sc.backend().isa }));
`,
  );
  const out = run(process.execPath, ['check.mjs'], { cwd: project, env, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  const result = JSON.parse(out.stdout.trim().split('\n').pop());
  console.log(`== trained: ${JSON.stringify(result)}`);
  if (!result.losses.every(Number.isFinite)) fail(`a loss is not finite: ${result.losses}`);
  if (result.losses[0] === result.losses[1]) fail('the optimizer step did not change the loss');
  if (!result.addon.startsWith(join(realpathSync(installed), 'prebuilds', host)) && !result.addon.startsWith(join(installed, 'prebuilds', host)))
    fail(`the addon came from ${result.addon}, not from the package's prebuilds/${host}`);
  console.log(`ok: installed without a compiler, trained with the prebuilt ${result.addon.split(/[\\/]/).slice(-2).join('/')} (${result.isa})`);
} catch (err) {
  console.error(`test:pack: ${err instanceof Error ? err.message : err}`);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
