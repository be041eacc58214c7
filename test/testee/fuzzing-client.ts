// npm run testee:client -- --url ws://127.0.0.1:P --agent NAME
// Speaks the Autobahn fuzzingserver protocol with our WebSocketClient on the sim host:
// GET /getCaseCount, then /runCase?case=N&agent=NAME for each case echoing every
// message, then /updateReports?agent=NAME.
import { WebSocketClient } from '../../src/client';


function arg(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const base = (arg('--url') ?? 'ws://127.0.0.1:9001').replace(/\/+$/, '');
const agent = arg('--agent') ?? 'moddable-websockets';
const maxMessage = Number(arg('--max-message') ?? 64 * 1024 * 1024);

function visit(path: string, onText?: (text: string) => void): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    const client = new WebSocketClient({
      receiveMode: 'stream',
      chunkSize: 16384,
      maxMessageSize: maxMessage,
      readBufferSize: 16384,
      sendQueueSize: 65536,
      sendBufferSize: 16384,
      keepAliveInterval: 0,
      serverTimeout: 10000,
    });
    let text = '';
    client.on('chunk', (data, isText, first, last) => {
      if (onText) {
        if (isText) {
          let s = '';
          for (let i = 0; i < data.length; i++) s += String.fromCharCode(data[i]);
          text = first ? s : text + s;
          if (last) onText(text);
        }
        return;
      }
      if (!client.sendFragment(data, isText, first, last)) client.close(1011, 'echo could not keep up');
    });
    client.on('close', (code, reason) => resolve({ code, reason }));
    client.on('error', (error) => console.error(`${path}: ${error.message}`));
    client.connect(base + path);
  });
}

async function main(): Promise<void> {
  let count = 0;
  await visit('/getCaseCount', (text) => {
    count = Number(text);
  });
  if (!Number.isInteger(count) || count < 0) throw new Error('the fuzzing server sent no case count');
  console.log(`${count} cases`);
  for (let n = 1; n <= count; n++) {
    const result = await visit(`/runCase?case=${n}&agent=${encodeURIComponent(agent)}`);
    console.log(`case ${n}: closed ${result.code}${result.reason ? ' ' + result.reason : ''}`);
  }
  await visit(`/updateReports?agent=${encodeURIComponent(agent)}`, () => {});
  console.log('reports updated');
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
