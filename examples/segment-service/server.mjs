// A segmentation service on node:http with one sepconv inference session.
//   node examples/segment-service/server.mjs --checkpoint runs/segnet-dsc/best.safetensors [--port 8080]
//   curl --data-binary @cat.jpg -H 'Content-Type: image/jpeg' -o mask.png -D - http://127.0.0.1:8080/segment
// POST /segment with an image body answers the colour mask PNG at the image's size, with the
// JSON stats in the X-Segment-Stats header; with `Accept: application/json` it answers
// { width, height, classFractions, milliseconds, maskPng (base64) }. The model runs in the
// session's worker thread: this event loop only moves bytes.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import * as sc from 'sepconv';

const MAX_BODY_BYTES = 20 * 2 ** 20;

/** The request body, or null when it is larger than MAX_BODY_BYTES. */
async function readBody(request) {
  const chunks = [];
  let size = 0;
  for await (const chunk of request) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function sendJson(response, status, body) {
  response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

/**
 * Starts the service; resolves with its URL and a close() that stops the server and the session.
 * Options: checkpoint (a segmentation checkpoint), host, port (0: any free port), and the
 * session's threads, maxBatch, maxDelayMs.
 */
export async function startService({ checkpoint, host = '127.0.0.1', port = 8080, threads, maxBatch = 8, maxDelayMs = 2 }) {
  const session = await sc.infer.load(checkpoint, { threads, maxBatch, maxDelayMs });
  if (session.task !== 'segmentation') {
    await session.close();
    throw new Error(`${checkpoint} holds a classifier (${session.model}); the service segments`);
  }
  const server = createServer(async (request, response) => {
    const path = new URL(request.url, 'http://localhost').pathname;
    if (path !== '/segment') return sendJson(response, 404, { error: `no route ${path}; POST an image to /segment` });
    if (request.method !== 'POST') return sendJson(response.setHeader('Allow', 'POST'), 405, { error: 'POST an image to /segment' });
    const started = performance.now();
    const body = await readBody(request);
    if (body === null) return sendJson(response, 413, { error: `the image is larger than ${MAX_BODY_BYTES} bytes` });
    try {
      const result = await session.run(body);
      const png = await session.renderMask(result);
      const stats = { width: result.width, height: result.height, classFractions: sc.infer.classFractions(result), milliseconds: performance.now() - started };
      if (request.headers.accept === 'application/json') return sendJson(response, 200, { ...stats, maskPng: png.toString('base64') });
      response.writeHead(200, { 'Content-Type': 'image/png', 'X-Segment-Stats': JSON.stringify(stats) }).end(png);
    } catch (err) {
      // Bad images are the client's fault; a failed model or worker is ours (the next call gets a new worker).
      sendJson(response, err.code === 'ERR_SEPCONV_INPUT' ? 422 : 503, { error: err.message });
    }
  });
  await new Promise((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  const address = server.address();
  return {
    url: `http://${address.address}:${address.port}`,
    session,
    async close() {
      await new Promise((resolve) => server.close(resolve));
      await session.close();
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { checkpoint: { type: 'string' }, port: { type: 'string', default: '8080' }, host: { type: 'string', default: '127.0.0.1' } } });
  if (!values.checkpoint) {
    console.error('usage: node examples/segment-service/server.mjs --checkpoint FILE [--port 8080] [--host 127.0.0.1]');
    process.exit(2);
  }
  const service = await startService({ checkpoint: values.checkpoint, host: values.host, port: Number(values.port) });
  console.log(`segmenting at ${service.url}/segment (${service.session.model}, ${service.session.imageSize}² input)`);
  process.on('SIGINT', () => void service.close().then(() => process.exit(0)));
}
