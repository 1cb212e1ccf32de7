// Lists the C++ sources of one native build target for binding.gyp and CMakeLists.txt,
// so adding a kernel file never means editing the build files.
//   node scripts/list-sources.mjs core      -> every .cc under native/{core,cpu,addon} except per-ISA units
//   node scripts/list-sources.mjs avx512    -> native/cpu/**/*_avx512.cc (compiled with AVX-512 flags)
//   node scripts/list-sources.mjs avx2      -> native/cpu/**/*_avx2.cc   (compiled with AVX2+FMA flags)
//   node scripts/list-sources.mjs neon      -> native/cpu/**/*_neon.cc   (arm64 builds only)
import { readdirSync, statSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const isas = ['avx512', 'avx2', 'neon'];
const isaSuffixes = isas.map((isa) => `_${isa}.cc`);

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const target = process.argv[2];
const dirs = ['native/core', 'native/cpu', 'native/addon'].map((d) => join(root, d));
const files = dirs.flatMap(walk).filter((f) => f.endsWith('.cc'));
const picked =
  target === 'core'
    ? files.filter((f) => !isaSuffixes.some((s) => f.endsWith(s)))
    : files.filter((f) => f.endsWith(`_${target}.cc`));
if (!['core', ...isas].includes(target)) {
  console.error(`list-sources: unknown target '${target}' (expected core, ${isas.join(', ')})`);
  process.exit(1);
}
// gyp resolves paths relative to binding.gyp (the package root); print one per line.
console.log(picked.map((f) => relative(root, f).split('\\').join('/')).sort().join('\n'));
