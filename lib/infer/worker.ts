/**
 * The entry of an inference session's worker thread. It first lowers its own scheduling
 * priority (Linux nice values are per thread, and the kernel threads this worker's addon
 * instance starts inherit it), so under load the process's event loop is scheduled before
 * inference; then it loads the code that answers (which starts the kernel threads).
 */
import { platform, setPriority } from 'node:os';
import { workerData } from 'node:worker_threads';
import type { SessionWorkerSetup } from './protocol.js';

const { niceness } = workerData as SessionWorkerSetup;
// Elsewhere the call would change the whole process's priority, the event loop's included.
if (platform() === 'linux' && niceness !== 0) setPriority(0, niceness);
await import('./answer.js');
