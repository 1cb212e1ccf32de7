/**
 * The device test/cuda-*.test.ts run on. By default the emulated CUDA backend that
 * `npm run build:cuda` builds (build/Release/libsepconv_cuda_emu.so: the same .cu sources
 * compiled as host C++), so the whole stack runs here without a GPU; SEPCONV_TEST_CUDA=device
 * targets a real GPU instead (the GPU workflow). Without either the suites are skipped with a
 * message, unless SEPCONV_TEST_CUDA_REQUIRED=1 (npm run test:cuda), where that is a failure.
 *
 * Import this before sepconv: the addon reads SEPCONV_CUDA_LIB on its first CUDA use.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';
import { warnOnce } from './notice.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const emuLibrary = join(root, 'build', 'Release', 'libsepconv_cuda_emu.so');
export const deviceLibrary = join(root, 'build', 'Release', 'libsepconv_cuda.so');
export const onRealDevice = process.env.SEPCONV_TEST_CUDA === 'device';

if (!onRealDevice && existsSync(emuLibrary)) process.env.SEPCONV_CUDA_LIB = emuLibrary;

const { backend } = await import('../../dist/index.js');
const info = backend();
const required = process.env.SEPCONV_TEST_CUDA_REQUIRED === '1';
if (!info.cuda && required) throw new Error(`CUDA tests required but CUDA is unavailable: ${info.cudaUnavailable}`);
if (!info.cuda)
  warnOnce('cuda', `skipping CUDA tests: ${info.cudaUnavailable} (run \`npm run build:cuda\` to build the emulated device)`);

/** `describe` when a CUDA device (emulated or real) is usable, else `describe.skip`. */
export const describeCuda = info.cuda ? describe : describe.skip;
export const cudaDevice = info.cudaDevice;
