// Hostile LAN clients against an HTTP server on 127.0.0.1, shared by npm run soak
// (scripts/stress/soak.mjs) and test/app/hardening.test.ts. Both connect from
// 127.0.0.2: another host on the LAN as far as the server can tell, not the address of
// the well-behaved clients they are measured against. Each reconnects at once whenever
// its connection ends, until stop(), and counts its connections and how many the server
// dropped.
import net from 'node:net';

class Attacker {
  constructor(port) {
    this.port = port;
    this.connections = 0;
    this.dropped = 0;
    this.stopped = false;
    this.socket = null;
    this.timer = null;
  }

  /** A new connection from 127.0.0.2; reconnects when it closes, unless stopped. */
  open() {
    if (this.stopped) return null;
    const socket = net.connect({ host: '127.0.0.1', port: this.port, localAddress: '127.0.0.2' });
    this.socket = socket;
    this.connections++;
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(this.timer); // clears an interval too
      if (this.stopped) return;
      this.dropped++;
      setImmediate(() => this.start());
    });
    return socket;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.socket?.destroy();
  }
}

/** A slowloris: sends a request head a byte every `everyMs`, never finishing it. */
export class Slowloris extends Attacker {
  constructor(port, everyMs = 100) {
    super(port);
    this.everyMs = everyMs;
    this.start();
  }

  start() {
    const socket = this.open();
    if (!socket) return;
    const head = Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    let at = 0;
    const trickle = () => {
      if (!socket.destroyed) socket.write(at < head.length ? head.subarray(at, at + 1) : 'a');
      at++;
    };
    socket.on('connect', () => {
      trickle(); // the first byte at once, as a slowloris does
      this.timer = setInterval(trickle, this.everyMs);
    });
  }
}

/**
 * A silent slot holder: sends nothing and hangs up after `holdMs` (just before the
 * server would count it as stalled), to reconnect at once.
 */
export class SilentHolder extends Attacker {
  constructor(port, holdMs) {
    super(port);
    this.holdMs = holdMs;
    this.start();
  }

  start() {
    const socket = this.open();
    if (socket) this.timer = setTimeout(() => socket.destroy(), this.holdMs);
  }
}
