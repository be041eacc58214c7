// Cross-checks against node:crypto, and both handshake sides against each other.
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha1 } from '../src/bytes/sha1';
import { base64Decode, base64Encode } from '../src/bytes/base64';
import { acceptClientRequest, acceptKey, createClientRequest, validateServerResponse } from '../src/websocket/handshake';
import { HttpHeadReader, parseRequestHead, parseResponseHead } from '../src/http/head';

const random = (out: Uint8Array): void => {
  randomFillSync(out);
};

function head(text: string): string {
  const reader = new HttpHeadReader(4096);
  const bytes = Buffer.from(text, 'latin1');
  expect(reader.push(bytes, 0, bytes.length)).toBe(bytes.length);
  return reader.text();
}

describe('sha1, base64 and acceptKey against node:crypto', () => {
  it('sha1 matches for 200 random inputs, including ranges', () => {
    for (let i = 0; i < 200; i++) {
      const data = randomBytes(Math.floor(Math.random() * 300));
      const expected = createHash('sha1').update(data).digest();
      expect(Buffer.from(sha1(data)).equals(expected)).toBe(true);
      const a = Math.floor(Math.random() * (data.length + 1));
      const b = a + Math.floor(Math.random() * (data.length - a + 1));
      expect(Buffer.from(sha1(data, a, b)).equals(createHash('sha1').update(data.subarray(a, b)).digest())).toBe(true);
    }
  });

  it('base64 matches Buffer for 200 random inputs and decodes back', () => {
    for (let i = 0; i < 200; i++) {
      const data = randomBytes(Math.floor(Math.random() * 100));
      const text = base64Encode(data);
      expect(text).toBe(data.toString('base64'));
      expect(Buffer.from(base64Decode(text) ?? []).equals(data)).toBe(true);
    }
  });

  it('acceptKey matches node:crypto for 200 random keys', () => {
    for (let i = 0; i < 200; i++) {
      const key = randomBytes(16).toString('base64');
      const expected = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
      expect(acceptKey(key)).toBe(expected);
    }
  });
});

describe('client and server handshakes agree', () => {
  it('a createClientRequest head is accepted by acceptClientRequest', () => {
    for (let i = 0; i < 50; i++) {
      const { request, key } = createClientRequest(
        { host: 'device.local', port: 8080, path: '/ws', subprotocols: ['b', 'a'], origin: 'http://x' },
        random,
      );
      const parsed = parseRequestHead(head(request));
      expect(parsed).not.toBeNull();
      const decision = acceptClientRequest(parsed!, { path: '/ws', subprotocols: ['a', 'b'] });
      expect(decision.ok).toBe(true);
      if (!decision.ok) return;
      expect(decision.key).toBe(key);
      expect(decision.protocol).toBe('b');

      const response = parseResponseHead(head(decision.response));
      expect(response).not.toBeNull();
      expect(validateServerResponse(response!, key, ['b', 'a'])).toEqual({ ok: true, value: { protocol: 'b' } });
    }
  });

  it('validateServerResponse accepts a hand-built RFC-conformant response', () => {
    const { key } = createClientRequest({ host: 'h', port: 80, path: '/' }, random);
    const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
    const text = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`;
    expect(validateServerResponse(parseResponseHead(head(text))!, key, [])).toEqual({ ok: true, value: { protocol: '' } });
  });
});
