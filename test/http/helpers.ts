// Shared helpers for the HttpServer tests (test/http/*.test.ts): a started server on
// 127.0.0.1 (ephemeral port) with its events recorded, a raw TCP client that parses
// HTTP/1.1 responses by Content-Length, and deterministic content.

import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { installSimPlatform } from '../../hosts/sim/platform';
import { HttpServer } from '../../src/net/http-server';
import type { HttpServerOptions } from '../../src/net/http-server';
import { MemoryStore } from '../../src/http/static-store';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** n deterministic bytes. */
export function pattern(n: number, seed = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed + (i >>> 8)) & 0xff;
  return out;
}

export interface LoggedRequest {
  method: string;
  path: string;
  status: number;
}

const servers = new Set<HttpServer>();

/** A started HttpServer on 127.0.0.1:0 with its events recorded. */
export function startServer(options: HttpServerOptions = {}): {
  server: HttpServer;
  port: number;
  requests: LoggedRequest[];
  errors: Error[];
} {
  installSimPlatform();
  const server = new HttpServer({ port: 0, address: '127.0.0.1', ...options });
  const requests: LoggedRequest[] = [];
  const errors: Error[] = [];
  server.on('request', (method, path, status) => requests.push({ method, path, status }));
  server.on('error', (error) => errors.push(error));
  server.start();
  servers.add(server);
  const port = server.port;
  if (!port) throw new Error('no port');
  return { server, port, requests, errors };
}

export function stopServers(): void {
  for (const server of servers) server.stop();
  servers.clear();
}

/** The store most tests use. */
export function sampleStore(): MemoryStore {
  return new MemoryStore({
    '/index.html': '<!doctype html><title>home</title>\n',
    '/app.js': 'console.log("plain");\n',
    '/style.css': 'body { color: red }\n',
    '/dir/index.html': '<p>dir</p>\n',
    '/a b.txt': 'space\n',
    '/caf\u00e9.txt': 'utf8 name\n',
    '/data.bin': pattern(3000),
  })
    .set('/app.js.gz', new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3, 4]))
    .set('/only.js.gz', new Uint8Array([0x1f, 0x8b, 8, 0, 9, 9, 9]));
}

export interface Response {
  status: number;
  reason: string;
  /** Lower-cased names; repeated fields joined with ", ". */
  headers: Record<string, string>;
  /** Header names in order as sent. */
  names: string[];
  body: Buffer;
  head: string;
}

const clients = new Set<RawClient>();

/** A raw TCP client: write bytes, read whole responses (Content-Length framing), see the close. */
export class RawClient {
  readonly socket: net.Socket;
  private buffer = Buffer.alloc(0);
  private ended = false;
  closedAt: number | null = null;
  private wake: (() => void) | null = null;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.notify();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.ended = true;
      this.closedAt ??= performance.now();
      this.notify();
    });
  }

  /** from: the local address to connect from (another 127.x address looks like another host). */
  static connect(port: number, from?: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port, ...(from ? { localAddress: from } : {}) });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        const client = new RawClient(socket);
        clients.add(client);
        resolve(client);
      });
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private waitChange(deadline: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.wake = null;
        reject(new Error(`timed out waiting for ${what}; have ${JSON.stringify(this.buffer.toString('latin1').slice(0, 300))}`));
      }, Math.max(0, deadline - performance.now()));
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Bytes received and not yet consumed by response(). */
  get pending(): Buffer {
    return this.buffer;
  }

  write(data: string | Uint8Array): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** One whole response (HEAD / 304 / 204: no body). */
  async response({ head = false, timeoutMs = 5000 } = {}): Promise<Response> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end >= 0) {
        const text = this.buffer.subarray(0, end).toString('latin1');
        const lines = text.split('\r\n');
        const m = /^HTTP\/1\.1 (\d{3}) (.*)$/.exec(lines[0]!);
        if (!m) throw new Error(`bad status line ${JSON.stringify(lines[0])}`);
        const status = Number(m[1]);
        const headers: Record<string, string> = {};
        const names: string[] = [];
        for (const line of lines.slice(1)) {
          const colon = line.indexOf(':');
          const name = line.slice(0, colon);
          const key = name.toLowerCase();
          const value = line.slice(colon + 1).trim();
          names.push(name);
          headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
        }
        const length = head || status === 304 || status === 204 ? 0 : Number(headers['content-length'] ?? 0);
        if (this.buffer.length >= end + 4 + length) {
          const body = Buffer.from(this.buffer.subarray(end + 4, end + 4 + length));
          this.buffer = this.buffer.subarray(end + 4 + length);
          return { status, reason: m[2]!, headers, names, body, head: text };
        }
      }
      if (this.ended) throw new Error(`closed before a whole response: ${JSON.stringify(this.buffer.toString('latin1').slice(0, 300))}`);
      await this.waitChange(deadline, 'a response');
    }
  }

  /** Resolves once the server closed the connection. */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!this.ended) await this.waitChange(deadline, 'the close');
  }

  /** Write a request, read its response. */
  async request(text: string, options: { head?: boolean; timeoutMs?: number } = {}): Promise<Response> {
    this.write(text);
    return this.response(options);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export function destroyClients(): void {
  for (const client of clients) client.destroy();
  clients.clear();
}

/** A GET (or other method) request head with Host. */
export function get(path: string, extra = '', method = 'GET'): string {
  return `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`;
}

/** One request on a fresh connection. */
export async function fetchOnce(port: number, text: string, options: { head?: boolean } = {}): Promise<{ response: Response; client: RawClient }> {
  const client = await RawClient.connect(port);
  const response = await client.request(text, options);
  return { response, client };
}
