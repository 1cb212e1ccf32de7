// npm run test:cuda: everything about the CUDA backend that can run without a GPU.
//   1. npm run build:cuda: nvcc compiles every .cu for sm_75/80/86/89/90 + compute_90 PTX with
//      warnings as errors (libsepconv_cuda.so), and the same sources build as host C++ against
//      the emulator (libsepconv_cuda_emu.so)
//   2. the kernel runner (native/cuda/test): every CUDA kernel on the emulator against the CPU's
//   3. vitest test/cuda-*.test.ts on the emulated device, with no skipping
// SEPCONV_TEST_CUDA=device runs step 3 on a real GPU instead (the GPU workflow).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function run(title, command, args, env = {}) {
  console.log(`\n== test:cuda: ${title}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (result.status !== 0) {
    console.error(`test:cuda: ${title} failed (${result.error?.message ?? `exit code ${result.status}`})`);
    process.exit(1);
  }
}

if (spawnSync('nvcc', ['--version'], { stdio: 'ignore' }).status !== 0) {
  console.error('test:cuda: nvcc is not on PATH; it needs the CUDA toolkit (the GPU is optional: kernels run on the emulator)');
  process.exit(1);
}
run('build the CUDA backend (nvcc, all archs) and its emulated twin', 'npm', ['run', 'build:cuda']);
run('compile TypeScript', 'npx', ['tsc', '-p', 'tsconfig.json']);
run('CUDA kernels on the emulator against the CPU kernels', 'make', ['-C', 'native/cuda/test', '-j2']);
run('device tensors, ops and training through JS', 'npx', ['vitest', 'run', 'test/cuda-'], { SEPCONV_TEST_CUDA_REQUIRED: '1' });
