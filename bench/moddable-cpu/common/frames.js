// The frames npm run bench:moddable-cpu feeds to both implementations, and what they
// must receive. Plain JavaScript with no host modules: the Moddable apps (as
// "bench/frames") and the Node runner (bench/moddable-cpu.mjs) import this same file,
// so the app-side stand-ins and the runner's expectations cannot drift apart.
//
// Message n of a stream (n = 0, 1, ...) has `size` payload bytes:
//   bytes 0-3      n, little-endian (the consumers check that messages arrive in order)
//   byte size - 1  tailByte(n) (the consumers check that each message ends where it should)
//   the rest       (n * 31 + i * 13) & 255
// Client-side frames are unmasked (server to client), server-side frames masked with a
// key derived from n (client to server), all binary, FIN set, shortest length form.

/** Message sizes measured. */
export const SIZES = [16, 1024, 16384];
/** Wire bytes per pass over a stream (whole frames, at least one). */
export const PASS_BYTES = 65536;
/**
 * Bytes per onReadable for the clients: the read buffer of the SDK's lin ECMA-419 TCP
 * socket (kBufferSize in $MODDABLE/modules/io/socket/lin/tcp.c), so frames are split
 * across deliveries where that socket would split them.
 */
export const CLIENT_CHUNK = 1536;
/**
 * The servers get whole frames per delivery, as many as fit in this many bytes (one
 * frame alone if it is larger): the SDK's websocket server cannot take a frame split
 * across two socket callbacks (it reads header and payload without checking how much
 * has arrived), so both servers get the same frame-aligned deliveries.
 */
export const SERVER_CHUNK = 1536;
/** Messages per batch of the real-socket cross-check, per size: ~5 s each at the simulator socket's ~75 KB/s. */
export const REAL_MESSAGES = { 16: 20000, 1024: 400, 16384: 25 };

export function tailByte(n) {
  return (n * 7 + 3) & 255;
}

/** Payload byte i of message n. */
export function payloadByte(n, i, size) {
  if (i < 4) return (n >>> (8 * i)) & 255;
  if (i === size - 1) return tailByte(n);
  return (n * 31 + i * 13) & 255;
}

export function headerLength(size, masked) {
  return (size < 126 ? 2 : size < 65536 ? 4 : 10) + (masked ? 4 : 0);
}

/** Writes frame n at `at` in `out`; returns the offset after it. */
export function writeFrame(out, at, n, size, masked) {
  out[at++] = 0x82;
  const maskBit = masked ? 0x80 : 0;
  if (size < 126) out[at++] = maskBit | size;
  else if (size < 65536) {
    out[at++] = maskBit | 126;
    out[at++] = size >> 8;
    out[at++] = size & 255;
  } else {
    out[at++] = maskBit | 127;
    for (let k = 7; k >= 0; k--) out[at++] = k >= 4 ? 0 : (size / 2 ** (8 * k)) & 255;
  }
  const m0 = n & 255;
  const m1 = 0x5a;
  const m2 = (n >> 8) & 255;
  const m3 = 0xa5 ^ (n & 255);
  if (masked) {
    out[at++] = m0;
    out[at++] = m1;
    out[at++] = m2;
    out[at++] = m3;
  }
  for (let i = 0; i < size; i++) {
    let b = payloadByte(n, i, size);
    if (masked) {
      const k = i & 3;
      b ^= k === 0 ? m0 : k === 1 ? m1 : k === 2 ? m2 : m3;
    }
    out[at++] = b;
  }
  return at;
}

/** Frames per pass for a size. */
export function messagesPerPass(size, masked) {
  return Math.max(1, Math.floor(PASS_BYTES / (headerLength(size, masked) + size)));
}

/**
 * One pass: `count` frames back to back (messages 0 .. count-1) and the deliveries
 * (byte counts) that hand them out: fixed CLIENT_CHUNK pieces for a client, whole
 * frames up to SERVER_CHUNK for a server.
 */
export function makeStream(size, side) {
  const masked = side === 'server';
  const count = messagesPerPass(size, masked);
  const frame = headerLength(size, masked) + size;
  const bytes = new Uint8Array(count * frame);
  let at = 0;
  for (let n = 0; n < count; n++) at = writeFrame(bytes, at, n, size, masked);
  const plan = [];
  if (masked) {
    const perChunk = Math.max(1, Math.floor(SERVER_CHUNK / frame));
    for (let n = 0; n < count; n += perChunk) plan.push(Math.min(perChunk, count - n) * frame);
  } else {
    for (let offset = 0; offset < bytes.length; offset += CLIENT_CHUNK) plan.push(Math.min(CLIENT_CHUNK, bytes.length - offset));
  }
  return { size, side, count, frame, bytes, plan: Uint32Array.from(plan) };
}

/** Adler-32 state over the payload bytes of messages 0 .. count-1, in order: [a, b]. */
export function expectedAdler(size, count) {
  let a = 1;
  let b = 0;
  for (let n = 0; n < count; n++) {
    for (let i = 0; i < size; i++) {
      a = (a + payloadByte(n, i, size)) % 65521;
      b = (b + a) % 65521;
    }
  }
  return ((b << 16) | a) >>> 0;
}
