import { test, eq, ok, throws, bytesEq } from '../harness';
import { parseWebSocketUrl, isIPv4 } from '../../src/websocket/url';
import { SendQueue } from '../../src/net/send-queue';

test('url: host, default port and path', () => {
  const u = parseWebSocketUrl('ws://Example.COM/chat?room=1');
  eq(u.host, 'example.com');
  eq(u.port, 80);
  eq(u.path, '/chat?room=1');
  eq(u.secure, false);
});

test('url: wss:// is secure, default port 443', () => {
  const u = parseWebSocketUrl('WSS://Example.COM/chat');
  eq(u.secure, true);
  eq(u.port, 443);
  eq(u.host, 'example.com');
  eq(parseWebSocketUrl('wss://127.0.0.1:8443').port, 8443);
});

test('url: explicit port, empty path, query without path', () => {
  eq(parseWebSocketUrl('ws://127.0.0.1:9001').path, '/');
  eq(parseWebSocketUrl('ws://127.0.0.1:9001').port, 9001);
  eq(parseWebSocketUrl('ws://h?x=1').path, '/?x=1');
});

test('url: refusals with clear errors', () => {
  throws(() => parseWebSocketUrl('http://h/'), /not a ws:\/\/ or wss:\/\/ URL/);
  throws(() => parseWebSocketUrl('https://h/'), /not a ws:\/\/ or wss:\/\/ URL/);
  throws(() => parseWebSocketUrl('ws://h:0/'), /invalid port/);
  throws(() => parseWebSocketUrl('ws://h:65536/'), /invalid port/);
  throws(() => parseWebSocketUrl('ws://[::1]:80/'), /IPv6/);
  throws(() => parseWebSocketUrl('ws://u@h/'), /user info/);
  throws(() => parseWebSocketUrl('ws://h/a b'), /invalid characters/);
  throws(() => parseWebSocketUrl('ws://h/#frag'), /fragment/);
  throws(() => parseWebSocketUrl('ws://h_x/'), /invalid host/);
});

test('url: IPv4 literals', () => {
  ok(isIPv4('127.0.0.1'));
  ok(isIPv4('255.255.255.255'));
  ok(!isIPv4('256.0.0.1'));
  ok(!isIPv4('1.2.3'));
  ok(!isIPv4('example.com'));
});

test('send queue: all-or-nothing pushes, wrap-around, partial drains', () => {
  const q = new SendQueue(8);
  ok(q.push(new Uint8Array([1, 2, 3, 4, 5]), 0, 5));
  ok(!q.push(new Uint8Array([6, 7, 8, 9]), 0, 4), 'does not fit: refused whole');
  eq(q.length, 5);
  const out: number[] = [];
  const take = (piece: Uint8Array): void => {
    for (let i = 0; i < piece.length; i++) out.push(piece[i]);
  };
  eq(q.drain(3, take), 3);
  ok(q.push(new Uint8Array([6, 7, 8, 9, 10, 11]), 0, 6), 'wraps around the end');
  eq(q.length, 8);
  eq(q.free, 0);
  eq(q.drain(100, take), 8);
  bytesEq(new Uint8Array(out), new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]));
  eq(q.length, 0);
});

test('send queue: capacity must be positive', () => {
  throws(() => new SendQueue(0), /at least 1 byte/);
});
