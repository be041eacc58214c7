// The soak's phone (scripts/stress/soak.mjs), in a worker thread of its own: it loads
// the LED app's page on a new connection every second, from 127.0.0.3 (a device of its
// own: the soak's other clients use 127.0.0.1, the slowloris 127.0.0.2), and posts each
// load's status, body length and time. Its own event loop keeps the soak's busy one (all the other
// clients run there) out of the times it measures.
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

const { port, timeoutMs } = workerData;
let stopped = false;
parentPort.on('message', (message) => {
  if (message === 'stop') stopped = true;
});

function getPage() {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, localAddress: '127.0.0.3', path: '/', agent: false, headers: { 'Accept-Encoding': 'gzip' } }, (res) => {
      let length = 0;
      res.on('data', (chunk) => (length += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode, length }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no page in ${timeoutMs} ms`)));
  });
}

while (!stopped) {
  const started = performance.now();
  try {
    const { status, length } = await getPage();
    parentPort.postMessage({ ms: performance.now() - started, status, length });
  } catch (error) {
    parentPort.postMessage({ ms: performance.now() - started, error: error.message });
  }
  const wait = 1000 - (performance.now() - started);
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}
parentPort.postMessage('stopped');
