// Per-ISA kernels must not leak into code every CPU runs (see scripts/check-isa-isolation.mjs).
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { arch, platform } from 'node:os';

describe('ISA isolation of the built addon', () => {
  // objdump comes with binutils, which building the addon from source needs anyway. A Windows
  // DLL keeps its function names in a separate .pdb, so there is nothing to check there.
  it.skipIf(arch() !== 'x64' || platform() === 'win32')('keeps AVX/AVX-512 instructions inside the per-ISA namespaces', () => {
    const out = execFileSync('node', ['scripts/check-isa-isolation.mjs'], { encoding: 'utf8' });
    expect(out).toMatch(/^ok: \d+ AVX-512 and \d+ AVX2 functions/);
  });
});
