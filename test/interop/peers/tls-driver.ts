// Drives our WebSocketClient over wss:// for test/interop/client-tls.test.ts, wherever it
// runs: in this process on the sim host's TLS socket (hosts/sim/tls.ts), or, under
// `npm run test:moddable`, inside the Moddable simulator (the tls-client app,
// hosts/moddable/tls-client, over hosts/moddable/tls-socket.ts) through its control
// WebSocket. The tests see the same DrivenClient either way; messages are sent as Payload
// descriptions and compared by digest (./payloads.ts), so large ones never cross the
// simulator's slow control channel.
import { performance } from 'node:perf_hooks';
import SimTLS from '../../../hosts/sim/tls';
import { installSimPlatform } from '../../../hosts/sim/platform';
import { ClientProbe } from './client-probe';
import type { ClosedInfo } from './client-probe';
import { onModdable } from '../../moddable/mode';
import { startModdableTlsDriver } from './tls-driver-moddable';
import { clientOptions, digestBytes, materialize } from './payloads';
import type { MessageDigest, Payload, TlsTestOptions } from './payloads';

export type { MessageDigest, Payload, TlsTestOptions };

export interface DrivenClient {
  connect(url: string): void;
  /** performance.now() when connect() was called. */
  connectedAt: number;
  /** Resolves on 'open'; rejects if the connection closed first. */
  open(): Promise<void>;
  /** Whether 'open' fired. */
  readonly opened: boolean;
  readonly closed: Promise<ClosedInfo>;
  /** 'error' events so far: the Error's name and message. */
  readonly errors: Array<{ name: string; message: string }>;
  /** send() of the payload (text as text, bytes as binary): what it returned. */
  send(payload: Payload): Promise<boolean>;
  /** The n-th message received (from 0). */
  received(n: number, timeout?: number): Promise<MessageDigest>;
  close(code: number, reason: string): Promise<void>;
  dispose(): void;
}

export interface TlsDriver {
  client(options: TlsTestOptions): DrivenClient;
  /** The message connect() throws with these options. */
  connectError(url: string, options: TlsTestOptions): Promise<string>;
  stop(): void | Promise<void>;
}

/** The digest of a message as received. */
export function digest(data: string | Uint8Array, isText: boolean): MessageDigest {
  return digestBytes(typeof data === 'string' ? Buffer.from(data, 'utf8') : data, isText);
}

/** What the echo of `payload` must digest to. */
export function expected(payload: Payload): MessageDigest {
  const data = materialize(payload);
  return digest(data, typeof data === 'string');
}

class LocalClient implements DrivenClient {
  private readonly probe: ClientProbe;
  connectedAt = 0;

  constructor(options: TlsTestOptions) {
    this.probe = new ClientProbe(clientOptions(options, SimTLS));
  }

  connect(url: string): void {
    this.connectedAt = performance.now();
    this.probe.connect(url);
  }

  async open(): Promise<void> {
    await this.probe.opened;
  }

  get opened(): boolean {
    return this.probe.events.some((e) => e.type === 'open');
  }

  get closed(): Promise<ClosedInfo> {
    return this.probe.closed;
  }

  get errors(): Array<{ name: string; message: string }> {
    return this.probe.errors.map((e) => ({ name: e.name, message: e.message }));
  }

  async send(payload: Payload): Promise<boolean> {
    const data = materialize(payload);
    return typeof data === 'string' ? this.probe.client.sendText(data) : this.probe.client.sendBinary(data);
  }

  async received(n: number, timeout = 10_000): Promise<MessageDigest> {
    const m = await this.probe.message(n, timeout);
    return digest(m.data, m.isText);
  }

  async close(code: number, reason: string): Promise<void> {
    this.probe.client.close(code, reason);
  }

  dispose(): void {
    this.probe.dispose();
  }
}

/** The driver for this run: in-process, or the Moddable simulator's tls-client app. */
export async function startTlsDriver(): Promise<TlsDriver> {
  if (onModdable) return startModdableTlsDriver();
  installSimPlatform();
  return {
    client: (options) => new LocalClient(options),
    async connectError(url, options) {
      const c = new LocalClient(options);
      try {
        c.connect(url);
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      } finally {
        c.dispose();
      }
      return '(connect() did not throw)';
    },
    stop() {},
  };
}
