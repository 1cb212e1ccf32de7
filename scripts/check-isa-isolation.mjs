// Checks the built addon for instruction-set leaks: AVX-512 code (zmm registers) may only
// appear in functions of the sepconv::cpu::avx512 namespace, AVX code (ymm) only there or in
// sepconv::cpu::avx2. A leak means the linker kept an ISA-specific copy of a shared inline
// function, which would crash with SIGILL on CPUs without that ISA.
// Usage: node scripts/check-isa-isolation.mjs [path/to/sepconv.node]   (exit 1 on a leak)
// Default: the binary the package loads (build/Release, else the prebuild for this platform).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const binary = process.argv[2] ?? createRequire(import.meta.url)('node-gyp-build').resolve(root);
const asm = execFileSync('objdump', ['-d', '-C', '--no-show-raw-insn', binary], { maxBuffer: 1 << 30 }).toString();

const leaks = [];
const isaFunctions = { avx512: new Set(), avx2: new Set() };
let fn = '';
const reported = new Set();
for (const line of asm.split('\n')) {
  const header = /^[0-9a-f]+ <(.*)>:$/.exec(line);
  if (header) {
    fn = header[1];
    continue;
  }
  const zmm = line.includes('%zmm');
  const ymm = line.includes('%ymm');
  if (!zmm && !ymm) continue;
  const inAvx512 = fn.includes('sepconv::cpu::avx512::');
  const inAvx2 = fn.includes('sepconv::cpu::avx2::');
  if (inAvx512) isaFunctions.avx512.add(fn);
  if (inAvx2) isaFunctions.avx2.add(fn);
  const ok = zmm ? inAvx512 : inAvx512 || inAvx2;
  if (!ok && !reported.has(fn)) {
    reported.add(fn);
    leaks.push(`${fn}: ${line.trim()}`);
  }
}
if (leaks.length > 0) {
  console.error(`ISA leak: ${leaks.length} function(s) outside the per-ISA namespaces use AVX registers:`);
  for (const l of leaks.slice(0, 20)) console.error('  ' + l);
  process.exit(1);
}
// The check means something only if the per-ISA kernels were found at all.
if (isaFunctions.avx512.size === 0 || isaFunctions.avx2.size === 0) {
  console.error(`no AVX-512/AVX2 kernels found in ${binary}: was it built without the per-ISA libraries?`);
  process.exit(1);
}
console.log(
  `ok: ${isaFunctions.avx512.size} AVX-512 and ${isaFunctions.avx2.size} AVX2 functions, ` +
    `no AVX code outside sepconv::cpu::{avx2,avx512} in ${binary}`,
);
