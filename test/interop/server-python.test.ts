// Real-peer tests of WebSocketServer (sim host) with Python's websockets library (Debian's
// python3-websockets 10.4, asyncio legacy client): test/interop/peers/py_client.py runs
// one scenario per process and prints what it observed as JSON. Under npm run
// test:moddable the server is the Moddable simulator's (peers/server-harness.ts): its
// events are read after s.settled().
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { installSimPlatform } from '../../hosts/sim/platform';
import { WAIT_SCALE, waitFor } from '../moddable/mode';
import { asciiText, BIG, disposeServers, MiB, MULTIBYTE, pattern, ServerUnderTest, SIZES, SIZES_TOTAL } from './peers/server-harness';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./peers/py_client.py', import.meta.url));
const children = new Set<ChildProcess>();

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Run one scenario; resolves with the JSON it printed. */
function runPython(url: string, scenario: string, args: string[] = [], stdin = '', timeoutMs = 20_000 * WAIT_SCALE): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT, url, scenario, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONIOENCODING: 'utf-8', PYTHONDONTWRITEBYTECODE: '1', PEER_WAIT_SCALE: String(WAIT_SCALE) },
    });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`python ${scenario} timed out; stdout=${stdout} stderr=${stderr}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      children.delete(child);
      const line = stdout.trim().split('\n').pop() ?? '';
      let result: Record<string, unknown>;
      try {
        result = JSON.parse(line) as Record<string, unknown>;
      } catch {
        reject(new Error(`python ${scenario} exited ${code}; stdout=${stdout} stderr=${stderr}`));
        return;
      }
      if (code !== 0 || 'error' in result) reject(new Error(`python ${scenario} failed (${code}): ${line} ${stderr}`));
      else resolve(result);
    });
    child.stdin.end(stdin);
  });
}

beforeAll(() => installSimPlatform());

afterEach(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
  await disposeServers();
});

describe('Python websockets 10.4 client against WebSocketServer', () => {
  it('echoes text and binary of 0, 125, 126, 65535, 65536 bytes and 1 MiB', async () => {
    const s = new ServerUnderTest(BIG);
    const out = await runPython(s.url, 'echo', [], '', waitFor(2 * SIZES_TOTAL));
    expect(out.extensions).toEqual([]); // permessage-deflate offered by Python, declined
    const results = out.results as { type: string; size: number; isText: boolean; length: number; equal: boolean; sha256: string }[];
    expect(results.map((r) => [r.type, r.size])).toEqual(SIZES.flatMap((n) => [['text', n], ['binary', n]]));
    for (const r of results) {
      expect(r.equal, `${r.type} ${r.size}`).toBe(true);
      expect(r.isText).toBe(r.type === 'text');
      expect(r.length).toBe(r.size);
      expect(r.sha256).toBe(sha256(r.type === 'text' ? asciiText(r.size, r.size) : pattern(r.size, r.size)));
    }
    // What the server received, byte for byte.
    await s.settled();
    expect(s.messages).toHaveLength(SIZES.length * 2);
    SIZES.forEach((n, i) => {
      expect(s.messages[2 * i]!.data === asciiText(n, n)).toBe(true);
      expect(Buffer.compare(s.messages[2 * i + 1]!.data as Uint8Array, pattern(n, n))).toBe(0);
    });
    expect(await s.waitClosed(s.opened[0]!.endpoint)).toMatchObject({ code: 1000, wasClean: true });
  }, waitFor(2 * SIZES_TOTAL));

  it('closes with 1009 a message over maxMessageSize', async () => {
    const s = new ServerUnderTest(BIG);
    const out = await runPython(s.url, 'too-big', [String(2 * MiB + 1)]);
    expect(out.code).toBe(1009);
    await s.settled();
    expect(s.closed[0]).toMatchObject({ code: 1009, wasClean: false });
  });

  it('echoes multibyte UTF-8 including 4-byte characters', async () => {
    const s = new ServerUnderTest({ ...BIG, readBufferSize: 509 });
    const texts = [MULTIBYTE, '😀', '\u{10FFFF}\u{FFFD}', MULTIBYTE.repeat(3000)];
    const out = await runPython(s.url, 'utf8', [], JSON.stringify(texts));
    expect(out.echoes).toEqual(texts);
    await s.settled();
    expect(s.messages.map((m) => m.data)).toEqual(texts);
  });

  it('reassembles messages Python sends fragmented (async and sync iterables, a ping between fragments)', async () => {
    const s = new ServerUnderTest(BIG);
    const out = await runPython(s.url, 'fragments');
    const whole = Buffer.concat([pattern(1, 1), pattern(65536, 2), pattern(4463, 3)]);
    expect(out.text).toBe('abcé€😀𝄞 end');
    expect(out.textEqual).toBe(true);
    expect(out.pongForPingDuringFragments).toBe(true);
    expect(out.binaryEqual).toBe(true);
    expect(out.binaryLength).toBe(whole.length);
    expect(out.binarySha256).toBe(sha256(whole));
    expect(out.iterable).toBe('sync iterable fragments');
    expect(out.next).toBe('sentinel');
    expect(out.controls).toContainEqual(['PONG', Buffer.from('between fragments').toString('hex')]);
    // The server saw exactly four messages, each whole.
    await s.settled();
    expect(s.messages.map((m) => (typeof m.data === 'string' ? m.data : `<${m.data.length} bytes>`))).toEqual([
      'abcé€😀𝄞 end',
      `<${whole.length} bytes>`,
      'sync iterable fragments',
      'sentinel',
    ]);
  });

  it('answers pings with pongs carrying the same payload', async () => {
    const s = new ServerUnderTest();
    const out = await runPython(s.url, 'ping');
    const sent = out.sent as string[];
    expect((out.controls as string[][]).filter(([op]) => op === 'PONG').map(([, hex]) => hex)).toEqual(sent);
    expect(sent).toEqual(['', '0001feff', Buffer.from(pattern(125, 7)).toString('hex')]);
  });

  it('keep-alive pings from the server are answered by Python and the connection stays open', async () => {
    const s = new ServerUnderTest({ keepAliveInterval: 150, clientTimeout: 300 });
    const out = await runPython(s.url, 'keepalive', ['1.1']);
    const pings = (out.controls as string[][]).filter(([op]) => op === 'PING').map(([, hex]) => hex);
    expect(pings.slice(0, 3)).toEqual(['00000001', '00000002', '00000003']);
    expect(out.echo).toBe('still here');
    expect(out.open).toBe(true);
    await s.settled();
    expect(s.closed.map((c) => c.code)).toEqual([1000]); // only the final, clean close
  });

  it('close from Python: 1000 and 4001 with a reason reach the server as sent; the server echoes the code', async () => {
    const s = new ServerUnderTest();
    const normal = await runPython(s.url, 'close', ['1000']);
    expect(normal.code).toBe(1000);
    const custom = await runPython(s.url, 'close', ['4001', 'python reason ✓']);
    expect(custom.code).toBe(4001);
    await s.until(() => s.closed.length === 2, 'two closes');
    expect(s.closed.map(({ code, reason, wasClean }) => ({ code, reason, wasClean }))).toEqual([
      { code: 1000, reason: '', wasClean: true },
      { code: 4001, reason: 'python reason ✓', wasClean: true },
    ]);
  });

  it('disconnectClient(endpoint, 4002, "bye"): Python sees 4002 "bye"', async () => {
    const s = new ServerUnderTest({}, { echo: false, disconnectOn: { text: 'close-me', code: 4002, reason: 'bye' } });
    await s.ready();
    const out = await runPython(s.url, 'server-close');
    expect(out.code).toBe(4002);
    expect(out.reason).toBe('bye');
    expect(out.exception).toBe('received 4002 (private use) bye; then sent 4002 (private use) bye');
    expect(out.rcvdThenSent).toBe(true); // the server closed first, Python echoed
    expect(out.controls).toEqual([['CLOSE', Buffer.concat([Buffer.from([0x0f, 0xa2]), Buffer.from('bye')]).toString('hex')]]);
    await s.settled();
    expect(s.closed[0]).toMatchObject({ code: 4002, wasClean: true });
  });
});
