// Synchronous stand-ins for `embedded:io/socket/tcp`, `embedded:io/socket/listener` and
// `timer`, for running the servers and the client inside the XS engine (xsnap has no
// sockets; bundle(entry, { fakeDevice: true }) in ../xs-run.mjs wires them in): the test
// drives every callback itself, with the device's semantics (exact-size reads,
// all-or-nothing writes within the last onWritable count, callbacks with `this` = the
// instance) and a manual clock.

export interface FakeOptions {
  from?: FakeTCP;
  address?: string;
  port?: number;
  nodelay?: boolean;
  onReadable?: (this: FakeTCP, count: number) => void;
  onWritable?: (this: FakeTCP, count: number) => void;
  onError?: (this: FakeTCP) => void;
}

/** The native half of a connection: the test's end of it. */
export class FakeConn {
  owner: FakeTCP | null = null;
  inbound: number[] = [];
  inHead = 0;
  out: number[] = [];
  writable = 0;
  closed = false;
  writes: number[] = [];
  options: FakeOptions = {};
  /**
   * The peer is gone: write() fails as Moddable's lin socket does (nothing written, no
   * count returned). Declared, not initialized: an idle connection's slots are measured
   * with this object included, and a field would add one.
   */
  declare broken?: boolean;
  /** The peer's address (default 10.0.0.2); declared for the same reason. */
  declare address?: string;

  get available(): number {
    return this.inbound.length - this.inHead;
  }

  /** The peer sends bytes: onReadable(total unread). */
  send(bytes: Uint8Array | string): void {
    if (typeof bytes === 'string') for (let i = 0; i < bytes.length; i++) this.inbound.push(bytes.charCodeAt(i) & 0xff);
    else for (let i = 0; i < bytes.length; i++) this.inbound.push(bytes[i]);
    const owner = this.owner;
    if (owner && !this.closed && owner.options.onReadable) owner.options.onReadable.call(owner, this.available);
  }

  /** The socket has room for n bytes: onWritable(n). */
  grant(n: number): void {
    this.writable = n;
    const owner = this.owner;
    if (owner && !this.closed && owner.options.onWritable) owner.options.onWritable.call(owner, n);
  }

  /** The peer went away. */
  fail(): void {
    const owner = this.owner;
    if (owner && !this.closed && owner.options.onError) owner.options.onError.call(owner);
  }

  /** Take what the server wrote so far. */
  take(): Uint8Array {
    const bytes = Uint8Array.from(this.out);
    this.out = [];
    return bytes;
  }
}

const conns = new WeakMap<FakeTCP, FakeConn>();
let accepting: FakeConn | null = null;
/** The connection a client (new TCP({ address, port })) opened last: the test plays its server. */
export let lastOutgoing: FakeConn | null = null;

export class FakeTCP {
  options: FakeOptions;
  constructor(options: FakeOptions) {
    this.options = options;
    if (options.address !== undefined) {
      const conn = new FakeConn();
      conn.owner = this;
      conn.options = options;
      conns.set(this, conn);
      lastOutgoing = conn;
      return;
    }
    if (accepting) {
      conns.set(this, accepting);
      accepting.owner = this;
      accepting = null;
      return;
    }
    const from = options.from;
    const conn = from ? conns.get(from) : undefined;
    if (!conn || conn.closed) throw new Error('invalid from');
    conns.delete(from!);
    conn.owner = this;
    conn.options = options;
    conns.set(this, conn);
  }

  private conn(): FakeConn {
    const conn = conns.get(this);
    if (!conn || conn.closed) throw new SyntaxError('no host data');
    return conn;
  }

  read(buffer: Uint8Array): number {
    const conn = this.conn();
    if (buffer.length > conn.available || buffer.length === 0) throw new Error('invalid');
    for (let i = 0; i < buffer.length; i++) buffer[i] = conn.inbound[conn.inHead++];
    return buffer.length;
  }

  /** Returns the space left, as Moddable's sockets do; nothing when the write failed. */
  write(data: ArrayBuffer | ArrayBufferView): number | undefined {
    const conn = this.conn();
    if (conn.broken) return undefined;
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (bytes.length > conn.writable) throw new Error('would block');
    conn.writable -= bytes.length;
    conn.writes.push(bytes.length);
    for (let i = 0; i < bytes.length; i++) conn.out.push(bytes[i]);
    return conn.writable;
  }

  close(): void {
    const conn = conns.get(this);
    if (!conn) return;
    conns.delete(this);
    conn.closed = true;
    conn.owner = null;
  }

  get remoteAddress(): string {
    return conns.get(this)?.address ?? '10.0.0.2';
  }

  get remotePort(): number {
    return 40000 + (conns.get(this)?.writes.length ?? 0);
  }
}

interface ListenerOptions {
  port?: number;
  onReadable?: (this: FakeListener, count: number) => void;
}

export let lastListener: FakeListener | null = null;

export class FakeListener {
  private readonly options: ListenerOptions;
  private pending: FakeConn[] = [];
  closed = false;
  constructor(options: ListenerOptions) {
    this.options = options;
    lastListener = this;
  }

  /** A client connects (from `address`, default 10.0.0.2): returns its end. */
  connect(address?: string): FakeConn {
    const conn = new FakeConn();
    if (address !== undefined) conn.address = address;
    this.pending.push(conn);
    this.options.onReadable?.call(this, this.pending.length);
    return conn;
  }

  read(): FakeTCP | undefined {
    const conn = this.pending.shift();
    if (!conn) return undefined;
    accepting = conn;
    return new FakeTCP({});
  }

  close(): void {
    this.closed = true;
  }

  get port(): number {
    return this.options.port ?? 80;
  }
}

// --- Timer on a manual clock --------------------------------------------------

export let now = 0;
interface FakeTimer {
  due: number;
  callback: (id: object) => void;
  repeat: number;
}
const timers = new Map<object, FakeTimer>();

export const FakeTimerModule = {
  set(callback: (id: object) => void, delay = 0, repeat = 0): object {
    const id = {};
    timers.set(id, { due: now + delay, callback, repeat });
    return id;
  },
  repeat(callback: (id: object) => void, interval: number): object {
    return FakeTimerModule.set(callback, interval, interval);
  },
  schedule(id: object, delay: number, repeat = 0): void {
    const t = timers.get(id);
    if (!t) throw new SyntaxError('no host data');
    t.due = now + delay;
    t.repeat = repeat;
  },
  clear(id: object | null | undefined): void {
    if (id) timers.delete(id);
  },
};

/** Advance the clock by ms, firing due timers in order. */
export function advance(ms: number): void {
  const end = now + ms;
  for (;;) {
    let next: [object, FakeTimer] | null = null;
    for (const entry of timers) if (entry[1].due <= end && (!next || entry[1].due < next[1].due)) next = entry;
    if (!next) break;
    now = Math.max(now, next[1].due);
    const [id, t] = next;
    if (t.repeat > 0) t.due += t.repeat;
    else timers.delete(id);
    t.callback(id);
  }
  now = end;
}

export function timerCount(): number {
  return timers.size;
}
