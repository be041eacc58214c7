// Memory probe for one wss:// client beside the LED app, in the Moddable simulator with
// the Atom Lite's fixed heaps (hosts/moddable/led-tls-memory/manifest.json; run by
// npm run bench:moddable-memory -- --tls). The LED app runs as in ./led-memory (whose MEM
// lines go on); once it is up, one WebSocketClient connects to the build's config url over
// our TLS socket, trusting the CA resource ca.pem, echoes one message and closes, and
// this traces, in 32-byte slots and chunk bytes:
//   TLS phase=before ...        after a full GC, before connecting
//   TLS phase=handshake ...     the most seen between callbacks while connecting (no GC)
//   TLS phase=open ... ms=N     after a full GC with the connection open; N: connect() to 'open'
//   TLS phase=closed ...        after a full GC once it closed
import Debug from 'debug';
import Instrumentation from 'instrumentation';
import Timer from 'timer';
import config from 'mc/config';
import Resource from 'Resource';
import TLS from 'embedded:io/socket/tcp/tls';
import { WebSocketClient } from 'websockets/client';
import './led-memory';

const CHUNK = Instrumentation.map('XS Chunk Heap Used');
const SLOT = Instrumentation.map('XS Slot Heap Used');

/** A counter's value (the probe's counters always exist). */
const get = (id: number | undefined): number => (id === undefined ? 0 : (Instrumentation.get(id) ?? 0));

function line(phase: string, chunk: number, slot: number, extra = ''): void {
  trace(`TLS phase=${phase} chunk=${chunk} slot=${slot}${extra}\n`);
}

function measured(phase: string, extra = ''): void {
  Debug.gc();
  line(phase, get(CHUNK), get(SLOT), extra);
}

Timer.set(() => {
  measured('before');
  let peakChunk = 0;
  let peakSlot = 0;
  const sampler = Timer.repeat(() => {
    peakChunk = Math.max(peakChunk, get(CHUNK));
    peakSlot = Math.max(peakSlot, get(SLOT));
  }, 1);
  const started = Date.now();
  // Buffers sized like the LED app's own clients; the CA is read in place from the resource.
  const client = new WebSocketClient({
    tls: { socket: TLS, ca: new Resource('ca.pem') },
    keepAliveInterval: 0,
    connectTimeout: 30000,
    maxMessageSize: 256,
    readBufferSize: 256,
    sendBufferSize: 128,
    sendQueueSize: 1024,
  });
  client.on('open', () => {
    const ms = Date.now() - started;
    Timer.clear(sampler);
    line('handshake', peakChunk, peakSlot);
    measured('open', ` ms=${ms}`);
    client.sendText('memory');
  });
  client.on('message', () => client.close(1000, 'done'));
  client.on('error', (error) => trace(`TLS error ${error.name}: ${error.message}\n`));
  client.on('close', (code) => {
    Timer.clear(sampler);
    Timer.set(() => measured('closed', ` code=${code}`), 100);
  });
  client.connect(String(config.url));
}, 1500);
