// writeSocket (src/net/socket-owner.ts): Moddable's sockets return the space left after a
// write and nothing when it failed (lin then never reports the error), so once a host has
// returned counts, a write that returns none must count as failed: the caller closes the
// connection instead of writing to the dead socket again (on lin: SIGPIPE).
import { describe, expect, it } from 'vitest';
import type TCP from 'embedded:io/socket/tcp';
import { writeSocket } from '../../src/net/socket-owner';

describe('writeSocket', () => {
  it('passes bytes on; false once the host, which returns counts, returns none', () => {
    const written: number[] = [];
    const counting = { write: (b: Uint8Array) => (written.push(b.length), 1000) } as unknown as TCP;
    const failing = { write: (b: Uint8Array) => void written.push(b.length) } as unknown as TCP;
    expect(writeSocket(counting, new Uint8Array(3))).toBe(true);
    expect(writeSocket(failing, new Uint8Array(5))).toBe(false);
    expect(written).toEqual([3, 5]);
  });
});
