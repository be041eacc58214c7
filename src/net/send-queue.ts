// A fixed-capacity byte ring for what the socket could not take yet. Its capacity is
// the whole per-connection send budget: nothing here ever grows.

export class SendQueue {
  private readonly ring: Uint8Array;
  private head = 0; // next byte to send
  private size = 0; // bytes queued

  constructor(capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('send queue capacity must be at least 1 byte');
    this.ring = new Uint8Array(capacity);
  }

  get capacity(): number {
    return this.ring.length;
  }

  get length(): number {
    return this.size;
  }

  get free(): number {
    return this.ring.length - this.size;
  }

  /** Append data[start, end) whole, or nothing (returns false) if it does not fit. */
  push(data: Uint8Array, start: number, end: number): boolean {
    const n = end - start;
    if (n > this.free) return false;
    const ring = this.ring;
    let tail = this.head + this.size;
    if (tail >= ring.length) tail -= ring.length;
    const first = Math.min(n, ring.length - tail);
    ring.set(data.subarray(start, start + first), tail);
    if (first < n) ring.set(data.subarray(start + first, end), 0);
    this.size += n;
    return true;
  }

  /**
   * Hand up to `limit` queued bytes to `write` (one or two contiguous pieces) and drop
   * them from the queue. Returns the number of bytes written.
   */
  drain(limit: number, write: (data: Uint8Array) => boolean | void): number {
    let written = 0;
    while (this.size > 0 && written < limit) {
      const n = Math.min(this.size, this.ring.length - this.head, limit - written);
      if (write(this.ring.subarray(this.head, this.head + n)) === false) return -1; // the write failed
      this.head += n;
      if (this.head === this.ring.length) this.head = 0;
      this.size -= n;
      written += n;
    }
    if (this.size === 0) this.head = 0;
    return written;
  }

  clear(): void {
    this.head = 0;
    this.size = 0;
  }
}
