// Runs inside XS (test/http/xs.test.ts): HttpServer over the synchronous fake sockets
// of fake-io.ts, the same scenarios as the socket tests in short, plus the memory one
// idle keep-alive connection holds. Reports { passed, failures, memory } through issueCommand.
import { installPlatform } from '../../../src/net/platform';
import { HttpServer, methodNotAllowed } from '../../../src/net/http-server';
import { MemoryStore } from '../../../src/http/static-store';
import { WebSocketServer } from '../../../src/net/server';
import { latin1Text } from '../../../src/http/head';
import { FakeConn, advance, lastListener, now, timerCount } from '../../xs/fakes/fake-io';

declare const gc: () => void;
declare const issueCommand: (message: ArrayBuffer) => ArrayBuffer;
declare const SCENARIO: { memoryConnections: number };

installPlatform({ now: () => now });

const failures: string[] = [];
let passed = 0;
function check(ok: boolean, what: string): void {
  if (ok) passed++;
  else failures.push(what);
}

function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + (i >>> 8)) & 0xff;
  return out;
}

interface Parsed {
  status: number;
  head: string;
  headers: Map<string, string>;
  body: Uint8Array;
  rest: Uint8Array;
}

/** Parse one response from bytes (no body for HEAD/304). */
function parse(bytes: Uint8Array, head = false): Parsed | null {
  let end = -1;
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      end = i;
      break;
    }
  }
  if (end < 0) return null;
  const text = latin1Text(bytes, 0, end);
  const lines = text.split('\r\n');
  const status = Number(lines[0].slice(9, 12));
  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const colon = lines[i].indexOf(':');
    headers.set(lines[i].slice(0, colon).toLowerCase(), lines[i].slice(colon + 1).trim());
  }
  const length = head || status === 304 ? 0 : Number(headers.get('content-length') ?? 0);
  if (bytes.length < end + 4 + length) return null;
  return { status, head: text, headers, body: bytes.subarray(end + 4, end + 4 + length), rest: bytes.subarray(end + 4 + length) };
}

/** Grant writable room in steps until nothing more comes; returns all the bytes. */
function drain(conn: FakeConn, step = 1536): Uint8Array {
  const all: number[] = [];
  for (let rounds = 0; rounds < 100000; rounds++) {
    conn.grant(step);
    const got = conn.take();
    for (let i = 0; i < got.length; i++) all.push(got[i]);
    if (got.length === 0) break;
  }
  return Uint8Array.from(all);
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function text(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

const GET = (path: string, extra = '', method = 'GET'): string => `${method} ${path} HTTP/1.1\r\nHost: device.local\r\n${extra}\r\n`;

const big = pattern(10 * 1024);
const store = new MemoryStore({
  '/index.html': '<!doctype html><title>LED</title>\n',
  '/page.bin': big,
  '/app.js': 'plain()',
}).set('/app.js.gz', new Uint8Array([0x1f, 0x8b, 8, 0]));

const ws = new WebSocketServer({ isStandAlone: false, prefix: '/ws' });
ws.on('message', (client, data, isText) => {
  if (isText) ws.sendText(client, data as string);
  else ws.sendBinary(client, data as Uint8Array);
});
const logged: string[] = [];
const errors: string[] = [];
const server = new HttpServer({
  port: 8080,
  store,
  maxBodySize: 64,
  websocket: { path: '/ws', server: ws },
  routes: {
    '/api/echo': (request) => (request.body ? { body: `got ${latin1Text(request.body)}` } : methodNotAllowed('POST')),
    '/api/state': (request) => ({ status: 200, contentType: 'application/json', body: `{"q":"${request.query}","é":1}` }),
    '/api/boom': () => {
      throw new Error('boom');
    },
  },
});
server.on('request', (method, path, status) => logged.push(`${method} ${path} ${status}`));
server.on('error', (e) => errors.push(e.message));
server.start();
const listener = lastListener!;

// 1. GET / with room granted first: one write holds head and body.
{
  const c = listener.connect();
  c.grant(8192);
  c.send(GET('/'));
  const r = parse(c.take());
  check(!!r && r.status === 200 && latin1Text(r.body) === '<!doctype html><title>LED</title>\n', 'GET / -> 200 index.html');
  check(c.writes.length === 1, `GET /: one write (got ${c.writes.length})`);
  check(!!r && r.headers.get('cache-control') === 'no-cache' && /^"[0-9a-f]+-[0-9a-f]+"$/.test(r.headers.get('etag') ?? ''), 'GET /: ETag and Cache-Control');
  // 304 on the same connection.
  c.send(GET('/', `If-None-Match: ${r ? r.headers.get('etag') : ''}\r\n`));
  const r2 = parse(drain(c));
  check(!!r2 && r2.status === 304 && r2.rest.length === 0, 'If-None-Match -> 304 without body');
  c.fail();
}

// 2. A 10 KB file under a 1536-byte budget per onWritable (the lin simulator's).
{
  const c = listener.connect();
  c.send(GET('/page.bin'));
  const bytes = drain(c, 1536);
  const r = parse(bytes);
  check(!!r && r.status === 200 && same(r.body, big), '10 KB streamed whole');
  let max = 0;
  for (const n of c.writes) max = Math.max(max, n);
  check(max <= 1536 && c.writes.length >= 7, `10 KB: writes within the budget (max ${max}, ${c.writes.length} writes)`);
  c.fail();
}

// 3. Pipelined: three requests in one send, gzip negotiation, HEAD, a route, 404, a route exception.
{
  const c = listener.connect();
  c.send(GET('/app.js', 'Accept-Encoding: gzip, br\r\n') + GET('/app.js', 'Accept-Encoding: gzip;q=0\r\n') + GET('/page.bin', '', 'HEAD') +
    GET('/api/state?x=1') + GET('/missing') + GET('/api/boom') + GET('/a%20b/../index.html'));
  let bytes = drain(c, 700);
  const out: Parsed[] = [];
  for (let k = 0; k < 7; k++) {
    const r = parse(bytes, k === 2);
    if (!r) break;
    out.push(r);
    bytes = r.rest;
  }
  check(out.length === 7, `pipelined: 7 responses (got ${out.length})`);
  if (out.length === 7) {
    check(out[0].headers.get('content-encoding') === 'gzip' && out[0].headers.get('vary') === 'Accept-Encoding', 'gzip served when accepted');
    check(!out[1].headers.has('content-encoding') && latin1Text(out[1].body) === 'plain()', 'q=0: plain');
    check(out[2].status === 200 && out[2].headers.get('content-length') === String(big.length), 'HEAD: headers, no body');
    check(out[3].status === 200 && out[3].body.length === 18, `route: UTF-8 body (${out[3].body.length} bytes)`);
    check(out[4].status === 404 && out[5].status === 500, '404 and 500');
    check(out[6].status === 400 && out[6].headers.get('connection') === 'close', 'traversal -> 400 and close');
  }
  check(c.closed, 'closed after the 400');
  check(errors.indexOf('boom') >= 0, 'route exception reported');
}

// 3b. POST bodies (maxBodySize 64): a head and body sent byte by byte, then a pipelined
//     GET; a POST to a file -> 405 keeping the connection; 413 at once from the head;
//     chunked -> 411; PUT -> 405 naming POST; a stalled body -> 408 at requestTimeout.
{
  const POST = (path: string, extra = ''): string => GET(path, extra, 'POST');
  const c = listener.connect();
  c.grant(8192);
  const all = POST('/api/echo', 'Content-Length: 11\r\n') + '{"on":true}' + GET('/app.js');
  for (let i = 0; i < all.length; i++) c.send(all.charAt(i));
  let r = parse(drain(c));
  check(!!r && r.status === 200 && latin1Text(r.body) === 'got {"on":true}', `POST byte by byte: the route sees the body (${r ? latin1Text(r.body) : 'none'})`);
  const r2 = r ? parse(r.rest) : null;
  check(!!r2 && r2.status === 200 && latin1Text(r2.body) === 'plain()', 'the GET after the body answered next');
  c.send(POST('/index.html', 'Content-Length: 2\r\n') + 'hi' + GET('/api/echo'));
  r = parse(drain(c));
  check(!!r && r.status === 405 && r.headers.get('allow') === 'GET, HEAD' && !r.headers.has('connection'), 'POST to a file: 405, Allow: GET, HEAD, kept open');
  const r3 = r ? parse(r.rest) : null;
  check(!!r3 && r3.status === 405 && r3.headers.get('allow') === 'POST' && !c.closed, 'a route refusing GET with methodNotAllowed');
  c.send(POST('/api/echo', 'Content-Length: 65\r\n'));
  r = parse(drain(c));
  check(!!r && r.status === 413 && r.headers.get('connection') === 'close', '413 at once for a body over maxBodySize');
  advance(1001);
  check(c.closed, 'closed after the linger');
  const d = listener.connect();
  d.grant(8192);
  d.send(POST('/api/echo', 'Transfer-Encoding: chunked\r\n') + '2\r\nhi\r\n0\r\n\r\n');
  r = parse(drain(d));
  check(!!r && r.status === 411 && r.headers.get('connection') === 'close', 'chunked POST -> 411');
  d.fail();
  const e = listener.connect();
  e.grant(8192);
  e.send(GET('/api/echo', '', 'PUT'));
  r = parse(drain(e));
  check(!!r && r.status === 405 && r.headers.get('allow') === 'GET, HEAD, POST', 'PUT -> 405, Allow: GET, HEAD, POST');
  e.fail();
  const f = listener.connect();
  f.grant(8192);
  f.send(POST('/api/echo', 'Content-Length: 10\r\n') + '12345');
  advance(4999);
  check(f.take().length === 0 && !f.closed, 'a body in progress: no 408 before requestTimeout');
  advance(2);
  r = parse(f.take());
  check(!!r && r.status === 408 && f.closed, 'a stalled body: 408 and closed at requestTimeout');
}

// 4. A large head (29 fields, ~2 KB), a long percent-encoded path, 414 and 431.
{
  const c = listener.connect();
  let extra = '';
  for (let i = 0; i < 28; i++) extra += `X-Field-${i}: ${'v'.repeat(48)}\r\n`;
  let path = '/';
  for (let i = 0; i < 60; i++) path += '%41';
  c.send(GET(path, extra));
  const r = parse(drain(c));
  check(!!r && r.status === 404, `large head parsed (status ${r ? r.status : 'none'})`);
  c.send(GET('/' + 'x'.repeat(600)));
  const r2 = parse(drain(c));
  check(!!r2 && r2.status === 414, '414');
  const d = listener.connect();
  d.send(GET('/', `X-Big: ${'b'.repeat(2100)}\r\n`));
  const r3 = parse(drain(d));
  check(!!r3 && r3.status === 431, '431');
}

// 5. Timeouts: 408 after requestTimeout; idle close after idleTimeout.
{
  const c = listener.connect();
  c.grant(4096);
  c.send('GET / HTTP/1.1\r\nHost: x\r\n');
  advance(4999);
  check(c.take().length === 0 && !c.closed, 'no 408 before requestTimeout');
  advance(2);
  const r = parse(c.take());
  check(!!r && r.status === 408 && c.closed, '408 and closed at requestTimeout');
  const d = listener.connect();
  d.grant(4096);
  d.send(GET('/app.js'));
  check(parse(d.take())?.status === 200, 'keep-alive response');
  advance(9999);
  check(!d.closed, 'not closed before idleTimeout');
  advance(2);
  check(d.closed && d.take().length === 0, 'idle connection closed silently');
}

// 6. The WebSocket hand-off with the first frame in the same send; then the HTTP server's timers are gone.
{
  const c = listener.connect();
  const request = 'GET /ws HTTP/1.1\r\nHost: device.local\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
  const payload = text('hi');
  const key = [1, 2, 3, 4];
  const frame = [0x81, 0x80 | payload.length, ...key];
  for (let i = 0; i < payload.length; i++) frame.push(payload[i] ^ key[i & 3]);
  const all = new Uint8Array(request.length + frame.length);
  all.set(text(request), 0);
  all.set(frame, request.length);
  c.send(all);
  const bytes = drain(c);
  const r = parse(bytes);
  check(!!r && r.status === 101 && r.headers.get('sec-websocket-accept') === 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=', 'hand-off: 101');
  check(!!r && r.rest.length === 4 && r.rest[0] === 0x81 && r.rest[1] === 2 && r.rest[2] === 0x68 && r.rest[3] === 0x69, 'hand-off: first frame echoed');
  check(server.connectionsCount === 0 && ws.clientsCount === 1, 'hand-off: the HTTP server forgot the socket');
  advance(20000);
  check(!c.closed, 'hand-off: no HTTP timeout closes the WebSocket');
  c.fail();
}

// 7. The cap: maxConnections (4) open and too fresh to evict (all from one address): the
//    fifth waits for a slot, then gets 503 (after 250 ms); a sixth waits too and gets the
//    slot of a connection that starts trickling a head meanwhile (slowloris, evictable).
{
  const open: FakeConn[] = [];
  for (let i = 0; i < 4; i++) open.push(listener.connect());
  const fifth = listener.connect();
  check(!fifth.options.onReadable, 'full: the fifth waits, not yet taken over');
  // Half the line (2 of 4 places) per address: a second newcomer from it waits, a third gets 503 at once.
  const second = listener.connect();
  const third = listener.connect();
  third.grant(4096);
  third.send(GET('/'));
  const r3 = parse(drain(third));
  check(!second.options.onReadable && !!r3 && r3.status === 503, 'one address holds at most half the waiting line');
  advance(249);
  check(!fifth.options.onReadable && !fifth.closed, 'still waiting after 249 ms');
  advance(1);
  fifth.grant(4096);
  fifth.send(GET('/'));
  const r = parse(drain(fifth));
  check(!!r && r.status === 503, '503 when full for 250 ms');
  second.grant(4096);
  second.send(GET('/'));
  const r2 = parse(drain(second));
  check(!!r2 && r2.status === 503, 'the second waiter too');
  const sixth = listener.connect();
  open[2].grant(4096);
  open[2].send('GET / HT'); // a head that stops: evictable
  advance(25);
  check(open[2].closed && !!sixth.options.onReadable, 'the waiting sixth takes the slot of the trickling head');
  sixth.grant(8192);
  sixth.send(GET('/'));
  const r6 = parse(sixth.take());
  check(!!r6 && r6.status === 200, 'the sixth is served');
  sixth.fail();
  for (const c of open) c.fail();
  advance(3000);
  check(server.connectionsCount === 0, 'all released');
}

// 7b. Addresses. Four fresh connections hold every slot: two from 10.0.0.2 (A), one from
//     10.0.0.3 (B), one from 10.0.0.4 (C). A newcomer from an address holding no more
//     than the others cannot evict them, so it waits; one address holds at most half the
//     line (2 places); a newcomer finding the line full takes the newest place of an
//     address holding more than one place more than its own; a newcomer from an address
//     holding no slot takes the slot of A's newest connection at once.
{
  const holders = [listener.connect(), listener.connect(), listener.connect('10.0.0.3'), listener.connect('10.0.0.4')];
  const waits = (c: FakeConn): boolean => !c.options.onReadable && !c.closed;
  const refusedNow = (c: FakeConn): boolean => {
    c.grant(4096);
    c.send(GET('/'));
    const r = parse(drain(c));
    return !!r && r.status === 503;
  };
  const a1 = listener.connect();
  const a2 = listener.connect();
  const a3 = listener.connect();
  check(waits(a1) && waits(a2) && refusedNow(a3), 'one address holds at most half the waiting line');
  const b1 = listener.connect('10.0.0.3');
  const b2 = listener.connect('10.0.0.3');
  check(waits(b1) && waits(b2), 'the line is full (2 + 2)');
  const c1 = listener.connect('10.0.0.4');
  check(waits(c1) && refusedNow(b2), 'a full line: the newest waiter of an address holding most gives its place');
  const d1 = listener.connect('10.0.0.5');
  check(waits(d1), 'a connection under 200 ms old is not evicted: its request may be on its way');
  advance(200);
  // (both of A's holders came at the same fake instant: either may be "newest")
  check(!!d1.options.onReadable && holders[0].closed !== holders[1].closed && !holders[2].closed && !holders[3].closed, 'an address holding no slot then takes a fresh slot of the one holding most');
  advance(50);
  check([a1, a2, b1, c1].every(refusedNow), 'the waiters get 503 after 250 ms');
  for (const c of [...holders, d1]) if (!c.closed) c.fail();
  advance(3000);
  check(server.connectionsCount === 0, '7b: all released');
}

// 8. Memory: N idle keep-alive connections after one request each.
const held: FakeConn[] = [];
for (let i = 0; i < SCENARIO.memoryConnections; i++) {
  const c = listener.connect();
  c.grant(8192);
  c.send(GET('/'));
  c.take();
  held.push(c);
}
check(server.connectionsCount === SCENARIO.memoryConnections, 'memory connections open');
gc();
const message = JSON.stringify({ passed, failures, logged: logged.length, timers: timerCount(), open: server.connectionsCount });
issueCommand(text(message).buffer as ArrayBuffer);
