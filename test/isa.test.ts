// Choosing the kernels' instruction set: SEPCONV_ISA and sc._setIsa accept only paths this
// CPU can run, and an unknown or unsupported one is an Error listing the ISAs it does run
// (never an illegal-instruction crash).
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { arch } from 'node:os';
import * as sc from '../dist/index.js';

const known = ['avx512', 'avx2', 'neon', 'scalar'];
const supported = sc.backend().supportedIsas;
const unsupported = known.filter((isa) => !supported.includes(isa));
afterAll(() => sc._setIsa(supported[0]!));

// How to start this node in a child process: under qemu-user, test:arm64 passes the emulator
// command line (an arm64 child cannot be exec'd directly without binfmt_misc).
const nodeCommand: string[] = process.env.SEPCONV_TEST_NODE ? JSON.parse(process.env.SEPCONV_TEST_NODE) : [process.execPath];

// Loads the package in a child with SEPCONV_ISA set; its backend() or its load error.
function loadWithIsa(isa: string, command = nodeCommand) {
  const script = "import('./dist/index.js').then((sc) => console.log(JSON.stringify(sc.backend())), (e) => { console.log(`${e.code}: ${e.message}`); process.exit(3); })";
  const [cmd, ...args] = command;
  const r = spawnSync(cmd!, [...args, '-e', script], { env: { ...process.env, SEPCONV_ISA: isa }, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, out: r.stdout.trim() };
}

const haveQemuX86 = arch() === 'x64' && spawnSync('qemu-x86_64', ['--version'], { stdio: 'ignore' }).status === 0;

describe('ISA selection', () => {
  it('runs the fastest path this machine supports', () => {
    const b = sc.backend();
    expect(b.isa).toBe(supported[0]);
    expect(supported.at(-1)).toBe('scalar');
    expect(supported).toEqual(known.filter((isa) => supported.includes(isa)));
    if (arch() === 'arm64') expect(supported).toEqual(['neon', 'scalar']);
    if (arch() === 'x64') expect(supported).not.toContain('neon');
    if (process.env.SEPCONV_EXPECT_ISA) expect(b.isa).toBe(process.env.SEPCONV_EXPECT_ISA);
  });

  it('switches between supported paths with _setIsa', () => {
    for (const isa of supported) {
      sc._setIsa(isa);
      expect(sc.backend().isa).toBe(isa);
      expect(sc.tensor([1, 2, 3, 4, 5]).relu().sum().item()).toBe(15);
    }
  });

  it('refuses an ISA this CPU lacks, listing those it has', () => {
    expect(unsupported.length).toBeGreaterThan(0);  // no CPU runs both AVX and NEON
    sc._setIsa(supported[0]!);
    for (const isa of unsupported)
      expect(() => sc._setIsa(isa)).toThrow(`setIsa: '${isa}' cannot run on this CPU (or is not in this build); this machine supports ${supported.join(', ')}`);
    expect(sc.backend().isa).toBe(supported[0]);  // unchanged by the refusals
    expect(() => sc._setIsa('sse2')).toThrow(`setIsa: 'sse2' is not an ISA sepconv knows (avx512, avx2, neon, scalar); this machine supports ${supported.join(', ')}`);
  });

  it('loads with SEPCONV_ISA naming a supported path, and refuses the others by name', () => {
    const chosen = supported.at(-1)!;
    const ok = loadWithIsa(chosen);
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.out).isa).toBe(chosen);
    const bad = loadWithIsa(unsupported[0]!);
    expect(bad.status).toBe(3);
    expect(bad.out).toBe(`ERR_SEPCONV_ISA: sepconv: SEPCONV_ISA: '${unsupported[0]}' cannot run on this CPU (or is not in this build); this machine supports ${supported.join(', ')}`);
  });

  // An AVX2 machine without AVX-512, emulated (qemu's x86 CPU model Haswell-noTSX).
  it.skipIf(!haveQemuX86)('on an AVX2-only CPU, refuses SEPCONV_ISA=avx512 (needs qemu-x86_64)', () => {
    const haswell = ['qemu-x86_64', '-cpu', 'Haswell-noTSX', process.execPath];
    const bad = loadWithIsa('avx512', haswell);
    expect(bad.status).toBe(3);
    expect(bad.out).toBe("ERR_SEPCONV_ISA: sepconv: SEPCONV_ISA: 'avx512' cannot run on this CPU (or is not in this build); this machine supports avx2, scalar");
  });
});
