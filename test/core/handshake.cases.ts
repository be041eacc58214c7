// HTTP head reading/parsing and the RFC 6455 opening handshake, both sides.
import { concat, deepEq, eq, hex, latin1, ok, test, throws } from '../harness';
import {
  HttpHeadReader, hasToken, headerValue, parseRequestHead, parseResponseHead,
} from '../../src/http/head';
import type { HttpRequestHead, HttpResponseHead } from '../../src/http/head';
import {
  acceptClientRequest, acceptKey, createClientRequest, errorResponse, latin1Bytes, setSha1,
  validateServerResponse,
} from '../../src/websocket/handshake';
import type { ClientRequestOptions, ServerDecision } from '../../src/websocket/handshake';
import { sha1 } from '../../src/bytes/sha1';

const RFC_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const RFC_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';
const HEAD = 'GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\r\n';
const HEAD_TEXT = 'GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket';

/** Fills with 0, 1, 2, ... so keys are predictable. */
const counting = (out: Uint8Array): void => {
  for (let i = 0; i < out.length; i++) out[i] = i;
};

function request(text: string): HttpRequestHead {
  const head = parseRequestHead(text);
  ok(head, `parse ${JSON.stringify(text)}`);
  return head;
}

function response(text: string): HttpResponseHead {
  const head = parseResponseHead(text);
  ok(head, `parse ${JSON.stringify(text)}`);
  return head;
}

const BASE_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ['Host', 'server.example.com'],
  ['Upgrade', 'websocket'],
  ['Connection', 'Upgrade'],
  ['Sec-WebSocket-Key', RFC_KEY],
  ['Sec-WebSocket-Version', '13'],
];

/** A valid client request with fields replaced (null value = removed) or appended. */
function clientHead(changes: Record<string, string | null> = {}, line = 'GET /chat HTTP/1.1'): HttpRequestHead {
  let text = line;
  const seen: Record<string, boolean> = {};
  for (const [name, value] of BASE_FIELDS) {
    seen[name] = true;
    const v = name in changes ? changes[name] : value;
    if (v !== null) text += `\r\n${name}: ${v}`;
  }
  for (const name of Object.keys(changes)) {
    const v = changes[name];
    if (!seen[name] && v !== null) text += `\r\n${name}: ${v}`;
  }
  return request(text);
}

function refused(decision: ServerDecision, status: number): string {
  if (decision.ok) throw new Error(`expected status ${status}, got 101`);
  eq(decision.status, status, decision.reason);
  ok(decision.response.startsWith(`HTTP/1.1 ${status} `), decision.response);
  ok(decision.response.indexOf('\r\nConnection: close\r\n') > 0, 'Connection: close');
  return decision.response;
}

function accepted(decision: ServerDecision): { key: string; protocol: string; response: string } {
  if (!decision.ok) throw new Error(`expected 101, got ${decision.status} ${decision.reason}`);
  return decision;
}

function serverResponse(fields: ReadonlyArray<readonly [string, string]>, status = 'HTTP/1.1 101 Switching Protocols'): HttpResponseHead {
  let text = status;
  for (const [name, value] of fields) text += `\r\n${name}: ${value}`;
  return response(text);
}

const GOOD_RESPONSE: ReadonlyArray<readonly [string, string]> = [
  ['Upgrade', 'websocket'],
  ['Connection', 'Upgrade'],
  ['Sec-WebSocket-Accept', RFC_ACCEPT],
];

function reason(result: { ok: true } | { ok: false; reason: string }): string {
  if (result.ok) throw new Error('expected a validation failure');
  return result.reason;
}

// ---- HttpHeadReader ----

test('head reader: one push returns the index past the blank line', () => {
  const reader = new HttpHeadReader(1024);
  const data = latin1(HEAD);
  eq(reader.push(data, 0, data.length), data.length);
  eq(reader.text(), HEAD_TEXT);
});

test('head reader: one byte at a time', () => {
  const reader = new HttpHeadReader(1024);
  const data = latin1(HEAD);
  for (let i = 0; i < data.length - 1; i++) eq(reader.push(data, i, i + 1), -1, `byte ${i}`);
  eq(reader.text(), '', 'no text before completion');
  eq(reader.push(data, data.length - 1, data.length), data.length);
  eq(reader.text(), HEAD_TEXT);
});

test('head reader: every two-way split, with trailing frame bytes', () => {
  const frame = hex('81 05 48 65 6c 6c 6f');
  const data = concat(latin1(HEAD), frame);
  const reader = new HttpHeadReader(HEAD.length);
  for (let k = 0; k <= HEAD.length; k++) {
    reader.reset();
    const first = reader.push(data, 0, k);
    if (k < HEAD.length) {
      eq(first, -1, `first part ${k}`);
      eq(reader.push(data, k, data.length), HEAD.length, `split at ${k}`);
    } else eq(first, HEAD.length, 'whole head in the first part');
    eq(reader.text(), HEAD_TEXT, `text at split ${k}`);
  }
});

test('head reader: leftover bytes after the blank line are not consumed', () => {
  const frame = hex('81 85 37 fa 21 3d 7f 9f 4d 51 58');
  const data = concat(hex('ff ff'), latin1(HEAD), frame);
  const reader = new HttpHeadReader(512);
  const done = reader.push(data, 2, data.length);
  eq(done, 2 + HEAD.length);
  eq(data[done], 0x81, 'first frame byte');
  eq(reader.push(data, done, data.length), done, 'after completion nothing more is taken');
});

test('head reader: blank line split as CR LF CR | LF and CR | LF CR LF', () => {
  for (const cut of [HEAD.length - 1, HEAD.length - 3, HEAD.length - 4]) {
    const reader = new HttpHeadReader(256);
    const data = latin1(HEAD);
    eq(reader.push(data, 0, cut), -1);
    eq(reader.push(data, cut, data.length), data.length);
  }
});

test('head reader: exactly maxSize fits, one byte less is 431 (-2)', () => {
  const data = latin1(HEAD);
  const exact = new HttpHeadReader(data.length);
  eq(exact.push(data, 0, data.length), data.length);
  const small = new HttpHeadReader(data.length - 1);
  eq(small.push(data, 0, data.length), -2);
  eq(small.push(data, 0, 1), -2, 'stays too large');
  small.reset();
  eq(small.push(data, 0, 10), -1, 'reset clears the overflow');
});

test('head reader: too large detected one byte at a time', () => {
  const data = latin1(HEAD);
  const reader = new HttpHeadReader(data.length - 1);
  let result = -1;
  let at = -1;
  for (let i = 0; i < data.length && result === -1; i++) {
    result = reader.push(data, i, i + 1);
    at = i;
  }
  eq(result, -2);
  eq(at, data.length - 1, 'fails on the byte past the limit');
});

test('head reader: leftover bytes do not count against maxSize', () => {
  const data = concat(latin1(HEAD), new Uint8Array(100));
  const reader = new HttpHeadReader(HEAD.length);
  eq(reader.push(data, 0, data.length), HEAD.length);
});

test('head reader: reset reads a second head into the same buffer', () => {
  const reader = new HttpHeadReader(256);
  const a = latin1('HTTP/1.1 101 OK\r\nA: 1\r\n\r\n');
  const b = latin1('HTTP/1.1 404 Not Found\r\n\r\n');
  eq(reader.push(a, 0, a.length), a.length);
  eq(reader.text(), 'HTTP/1.1 101 OK\r\nA: 1');
  reader.reset();
  eq(reader.push(b, 0, b.length), b.length);
  eq(reader.text(), 'HTTP/1.1 404 Not Found');
});

test('head reader: bare LF line endings are accepted', () => {
  for (const text of ['GET / HTTP/1.1\nHost: a\n\n', 'GET / HTTP/1.1\nHost: a\n\r\n', 'GET / HTTP/1.1\r\nHost: a\r\n\n']) {
    const reader = new HttpHeadReader(256);
    const data = latin1(text);
    eq(reader.push(data, 0, data.length), data.length, JSON.stringify(text));
    const head = request(reader.text());
    eq(headerValue(head.headers, 'host'), 'a');
  }
});

test('head reader: latin1 bytes come back as latin1 text', () => {
  const data = concat(latin1('HTTP/1.1 200 OK\r\nX: '), hex('e9 ff'), latin1('\r\n\r\n'));
  const reader = new HttpHeadReader(64);
  eq(reader.push(data, 0, data.length), data.length);
  eq(headerValue(response(reader.text()).headers, 'x'), '\u00e9\u00ff');
});

// ---- Parsing ----

test('parse request: line, lower-cased names, trimmed values, duplicates in order', () => {
  const head = request('GET /a?b=c HTTP/1.1\r\nHost: x\r\nX-Multi:  one \t\r\nx-multi: two\r\nX-Empty:\r\nX-Text: caf\u00e9');
  eq(head.method, 'GET');
  eq(head.target, '/a?b=c');
  eq(head.version, 'HTTP/1.1');
  deepEq(head.headers.get('x-multi'), ['one', 'two']);
  eq(headerValue(head.headers, 'X-MULTI'), 'one, two');
  eq(headerValue(head.headers, 'x-empty'), '');
  eq(headerValue(head.headers, 'x-text'), 'caf\u00e9');
  eq(headerValue(head.headers, 'missing'), undefined);
});

test('parse request: leading blank lines and a trailing CRLFCRLF are tolerated', () => {
  eq(request('\r\nGET / HTTP/1.1\r\nHost: x').target, '/');
  eq(headerValue(request('GET / HTTP/1.1\r\nHost: x\r\n\r\n').headers, 'host'), 'x');
});

test('parse request: malformed request lines', () => {
  for (const line of [
    'GET /  HTTP/1.1', 'GET  / HTTP/1.1', 'GET / HTTP/1.1 ', 'GET /', 'GET / HTTP/11', 'GET / http/1.1',
    '/ HTTP/1.1', 'G(T / HTTP/1.1', 'GET /\u00e9 HTTP/1.1', 'GET /a\tb HTTP/1.1', '', 'GET / HTTP/1.1 extra',
  ]) {
    eq(parseRequestHead(line + '\r\nHost: x'), null, JSON.stringify(line));
  }
});

test('parse request: obs-fold continuation lines are rejected', () => {
  eq(parseRequestHead('GET / HTTP/1.1\r\nX-A: one\r\n two'), null, 'space fold');
  eq(parseRequestHead('GET / HTTP/1.1\r\nX-A: one\r\n\ttwo: 2'), null, 'tab fold');
});

test('parse request: bad header names and missing colons', () => {
  for (const field of ['Host : x', 'Ho st: x', 'X(y): 1', 'X\u00e9: 1', ': empty name', 'Host x', 'X-"q": 1']) {
    eq(parseRequestHead('GET / HTTP/1.1\r\n' + field), null, JSON.stringify(field));
  }
});

test('parse request: control characters and stray CR are rejected', () => {
  for (const value of ['a\u0000b', 'a\u0001b', 'a\u007fb', 'a\rb', 'a\u001bb', 'a\u0100b']) {
    eq(parseRequestHead('GET / HTTP/1.1\r\nX: ' + value), null, JSON.stringify(value));
  }
  eq(parseRequestHead('GET / HTTP/1.1\r\nX: a\r\r\nY: b'), null, 'CR CR LF');
  eq(parseRequestHead('GET / HTTP/1.1\r\nX: a\r'), null, 'trailing bare CR');
  ok(parseRequestHead('GET / HTTP/1.1\r\nX: a\tb'), 'HTAB is allowed');
});

test('parse request: an empty line inside the head is malformed', () => {
  eq(parseRequestHead('GET / HTTP/1.1\r\nA: 1\r\n\r\nB: 2'), null);
});

test('parse response: status line forms', () => {
  const ok1 = response('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket');
  eq(ok1.version, 'HTTP/1.1');
  eq(ok1.status, 101);
  eq(ok1.reason, 'Switching Protocols');
  eq(response('HTTP/1.1 101').reason, '', 'no reason phrase');
  eq(response('HTTP/1.1 404 ').reason, '', 'empty reason phrase');
  for (const line of ['HTTP/1.1 10 x', 'HTTP/1.1 abc OK', 'ICY 200 OK', 'HTTP/1.1  200 OK', 'HTTP/1.1 200 O\u0001K', 'HTTP/1.1 099 x', '']) {
    eq(parseResponseHead(line), null, JSON.stringify(line));
  }
});

test('hasToken: case-insensitive, comma-separated, OWS-tolerant', () => {
  ok(hasToken('keep-alive, Upgrade', 'upgrade'));
  ok(hasToken('UPGRADE', 'upgrade'));
  ok(hasToken(' \tupgrade\t ,close', 'Upgrade'));
  ok(!hasToken('upgrades', 'upgrade'));
  ok(!hasToken('keep-alive', 'upgrade'));
  ok(!hasToken('', 'upgrade'));
  ok(!hasToken(undefined, 'upgrade'));
});

test('latin1Bytes: one byte per char', () => {
  deepEq(latin1Bytes('A\u00e9\r\n'), new Uint8Array([0x41, 0xe9, 0x0d, 0x0a]));
});

// ---- Accept key ----

test('acceptKey: RFC 6455 section 1.3 example', () => {
  eq(acceptKey(RFC_KEY), RFC_ACCEPT);
});

test('setSha1: an installed digest is used, and the default restores', () => {
  let calls = 0;
  setSha1((data) => {
    calls++;
    return sha1(data);
  });
  try {
    eq(acceptKey(RFC_KEY), RFC_ACCEPT);
    eq(calls, 1);
  } finally {
    setSha1(sha1);
  }
  eq(acceptKey(RFC_KEY), RFC_ACCEPT);
  eq(calls, 1);
});

// ---- Server side ----

test('server: RFC 6455 example request is accepted with the exact 101 response', () => {
  const head = request(
    'GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Key: ${RFC_KEY}\r\nOrigin: http://example.com\r\n` +
      'Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13',
  );
  const d = accepted(acceptClientRequest(head, { subprotocols: ['superchat', 'chat'] }));
  eq(d.key, RFC_KEY);
  eq(d.protocol, 'chat', 'first in client order');
  eq(
    d.response,
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${RFC_ACCEPT}\r\nSec-WebSocket-Protocol: chat\r\n\r\n`,
  );
});

test('server: browser-style Connection "keep-alive, Upgrade" and Upgrade case', () => {
  const d = accepted(acceptClientRequest(clientHead({ Connection: 'keep-alive, Upgrade', Upgrade: 'WebSocket' }), {}));
  eq(d.protocol, '');
  ok(d.response.indexOf('Sec-WebSocket-Protocol') < 0, 'no protocol header');
});

test('server: 405 for non-GET methods, with Allow: GET', () => {
  for (const method of ['POST', 'get', 'HEAD']) {
    const text = refused(acceptClientRequest(clientHead({}, `${method} /chat HTTP/1.1`), {}), 405);
    ok(text.indexOf('\r\nAllow: GET\r\n') > 0, 'Allow header');
  }
});

test('server: 400 for HTTP/1.0 and 0.9, HTTP/1.2 and 2.0 accepted', () => {
  refused(acceptClientRequest(clientHead({}, 'GET /chat HTTP/1.0'), {}), 400);
  refused(acceptClientRequest(clientHead({}, 'GET /chat HTTP/0.9'), {}), 400);
  accepted(acceptClientRequest(clientHead({}, 'GET /chat HTTP/1.2'), {}));
  accepted(acceptClientRequest(clientHead({}, 'GET /chat HTTP/2.0'), {}));
});

test('server: 400 for a missing, empty or repeated Host', () => {
  refused(acceptClientRequest(clientHead({ Host: null }), {}), 400);
  refused(acceptClientRequest(clientHead({ Host: '' }), {}), 400);
  refused(acceptClientRequest(request('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Key: ${RFC_KEY}\r\nSec-WebSocket-Version: 13`), {}), 400);
});

test('server: 404 when the path does not match; the query is ignored', () => {
  refused(acceptClientRequest(clientHead({}, 'GET /other HTTP/1.1'), { path: '/chat' }), 404);
  refused(acceptClientRequest(clientHead({}, 'GET /chat/ HTTP/1.1'), { path: '/chat' }), 404);
  accepted(acceptClientRequest(clientHead({}, 'GET /chat?room=1 HTTP/1.1'), { path: '/chat' }));
  accepted(acceptClientRequest(clientHead({}, 'GET /anything HTTP/1.1'), {}));
});

test('server: 400 for a target that is not a resource name', () => {
  refused(acceptClientRequest(clientHead({}, 'GET http://server.example.com/chat HTTP/1.1'), {}), 400);
  refused(acceptClientRequest(clientHead({}, 'GET * HTTP/1.1'), {}), 400);
  refused(acceptClientRequest(clientHead({}, 'GET /chat#frag HTTP/1.1'), {}), 400);
});

test('server: 400 when Upgrade lacks websocket', () => {
  refused(acceptClientRequest(clientHead({ Upgrade: null }), {}), 400);
  refused(acceptClientRequest(clientHead({ Upgrade: 'h2c' }), {}), 400);
  accepted(acceptClientRequest(clientHead({ Upgrade: 'foo, websocket' }), {}));
});

test('server: 400 when Connection lacks upgrade', () => {
  refused(acceptClientRequest(clientHead({ Connection: null }), {}), 400);
  refused(acceptClientRequest(clientHead({ Connection: 'keep-alive' }), {}), 400);
  refused(acceptClientRequest(clientHead({ Connection: 'upgraded' }), {}), 400);
});

test('server: 426 with Sec-WebSocket-Version: 13 for other or missing versions', () => {
  for (const version of ['8', '', '13, 8', null]) {
    const text = refused(acceptClientRequest(clientHead({ 'Sec-WebSocket-Version': version }), {}), 426);
    ok(text.indexOf('\r\nSec-WebSocket-Version: 13\r\n') > 0, `version header for ${String(version)}`);
  }
});

test('server: 400 for a key that is not base64 of 16 bytes', () => {
  for (const key of [null, '', 'dGhlIHNhbXBsZSBub25jZQ', 'dGhlIHNhbXBsZSBub25j', 'dGhlIHNhbXBsZSBub25jZTE=',
    'dGhlIHNhbXBsZSBub25jZR==', 'dGhlIHNhbXBsZSBub25jZQ==, dGhlIHNhbXBsZSBub25jZQ==', '!GhlIHNhbXBsZSBub25jZQ==']) {
    refused(acceptClientRequest(clientHead({ 'Sec-WebSocket-Key': key }), {}), 400);
  }
});

test('server: 403 when checkOrigin refuses; it sees the origin and the request', () => {
  const seen: Array<string | undefined> = [];
  const options = {
    checkOrigin: (origin: string | undefined, req: HttpRequestHead) => {
      seen.push(origin);
      eq(req.target, '/chat');
      return origin === 'https://good.example';
    },
  };
  refused(acceptClientRequest(clientHead({ Origin: 'https://evil.example' }), options), 403);
  accepted(acceptClientRequest(clientHead({ Origin: 'https://good.example' }), options));
  refused(acceptClientRequest(clientHead(), options), 403);
  deepEq(seen, ['https://evil.example', 'https://good.example', undefined]);
});

test('server: checks run in the documented order', () => {
  const bad = { Host: null, Upgrade: null, Connection: null, 'Sec-WebSocket-Version': '8', 'Sec-WebSocket-Key': 'x' };
  refused(acceptClientRequest(clientHead(bad, 'POST /x HTTP/1.0'), { path: '/chat' }), 405);
  refused(acceptClientRequest(clientHead(bad, 'GET /x HTTP/1.0'), { path: '/chat' }), 400);
  const noVersion = { 'Sec-WebSocket-Version': '8', 'Sec-WebSocket-Key': 'x' };
  refused(acceptClientRequest(clientHead(noVersion, 'GET /x HTTP/1.1'), { path: '/chat' }), 404);
  refused(acceptClientRequest(clientHead(noVersion), { path: '/chat' }), 426);
  refused(acceptClientRequest(clientHead({ 'Sec-WebSocket-Key': 'x' }), { checkOrigin: () => false }), 400);
});

test('server: subprotocol is the first of the client list the server supports', () => {
  const pick = (offered: string | null, supported: readonly string[]): string =>
    accepted(acceptClientRequest(clientHead({ 'Sec-WebSocket-Protocol': offered }), { subprotocols: supported })).protocol;
  eq(pick('a, b, c', ['c', 'b']), 'b');
  eq(pick('a,b', ['a', 'b']), 'a');
  eq(pick('x, y', ['a']), '', 'no match: accepted without a subprotocol');
  eq(pick(null, ['a']), '', 'none offered');
  eq(pick('a', []), '', 'none supported');
  eq(pick('Chat', ['chat']), '', 'case-sensitive');
  const twoFields = request('GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Key: ${RFC_KEY}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: b`);
  eq(accepted(acceptClientRequest(twoFields, { subprotocols: ['b'] })).protocol, 'b', 'repeated fields');
});

test('server: client extension offers are ignored (none negotiated)', () => {
  const d = accepted(acceptClientRequest(clientHead({ 'Sec-WebSocket-Extensions': 'permessage-deflate' }), {}));
  ok(d.response.indexOf('Extensions') < 0);
});

test('server: serverName appears on 101 and on errors; an unsafe one throws', () => {
  ok(accepted(acceptClientRequest(clientHead(), { serverName: 'esp32/1.0' })).response.indexOf('\r\nServer: esp32/1.0\r\n') > 0);
  ok(refused(acceptClientRequest(clientHead({}, 'PUT / HTTP/1.1'), { serverName: 'esp32' }), 405).indexOf('\r\nServer: esp32\r\n') > 0);
  throws(() => acceptClientRequest(clientHead(), { serverName: 'x\r\nSet-Cookie: a=b' }), /serverName/);
});

test('errorResponse: complete head, Content-Length matches the body', () => {
  const text = errorResponse(431, 'header too large', 'srv');
  eq(text, 'HTTP/1.1 431 Request Header Fields Too Large\r\nServer: srv\r\nConnection: close\r\n' +
    'Content-Type: text/plain\r\nContent-Length: 17\r\n\r\nheader too large\n');
  const busy = errorResponse(503, 'full');
  ok(busy.startsWith('HTTP/1.1 503 Service Unavailable\r\n'));
  ok(busy.endsWith('\r\n\r\nfull\n'));
});

test('errorResponse: extra headers (CRLF optional) and a sanitized body', () => {
  const text = errorResponse(426, 'v\u00e9rsion\r\n', undefined, 'Sec-WebSocket-Version: 13');
  ok(text.indexOf('\r\nSec-WebSocket-Version: 13\r\n\r\n') > 0, text);
  ok(text.endsWith('\r\n\r\nv?rsion??\n'), text);
  ok(text.indexOf('Content-Length: 10\r\n') > 0);
  ok(errorResponse(418, 'x').startsWith('HTTP/1.1 418 Unknown\r\n'));
});

test('server: every error response parses as an HTTP response', () => {
  const d = acceptClientRequest(clientHead({ 'Sec-WebSocket-Version': '8' }), { serverName: 's' });
  ok(!d.ok);
  const split = d.response.indexOf('\r\n\r\n');
  const head = response(d.response.slice(0, split));
  eq(head.status, 426);
  eq(headerValue(head.headers, 'content-length'), String(d.response.length - split - 4));
});

// ---- Client side ----

const CLIENT: ClientRequestOptions = { host: 'server.example.com', port: 80, path: '/chat' };

test('client: request contents with a predictable key', () => {
  const { request: text, key } = createClientRequest(CLIENT, counting);
  eq(key, 'AAECAwQFBgcICQoLDA0ODw==');
  eq(
    text,
    'GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: AAECAwQFBgcICQoLDA0ODw==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
});

test('client: the key is base64 of 16 fresh random bytes', () => {
  let fill = 0;
  const random = (out: Uint8Array): void => {
    eq(out.length, 16);
    out.fill(fill++);
  };
  const a = createClientRequest(CLIENT, random).key;
  const b = createClientRequest(CLIENT, random).key;
  ok(a !== b);
  eq(base64DecodeLength(a), 16);
});

function base64DecodeLength(key: string): number {
  const head = clientHead({ 'Sec-WebSocket-Key': key });
  return acceptClientRequest(head, {}).ok ? 16 : -1;
}

test('client: Host carries the port only when not the scheme default', () => {
  const host = (options: Partial<ClientRequestOptions>): string | undefined =>
    headerValue(request(createClientRequest({ ...CLIENT, ...options }, counting).request).headers, 'host');
  eq(host({ port: 80 }), 'server.example.com');
  eq(host({ port: 8080 }), 'server.example.com:8080');
  eq(host({ port: 443, secure: true }), 'server.example.com');
  eq(host({ port: 443 }), 'server.example.com:443');
  eq(host({ port: 80, secure: true }), 'server.example.com:80');
  eq(host({ host: '::1', port: 8080 }), '[::1]:8080');
  eq(host({ host: '[fe80::1]', port: 80 }), '[fe80::1]');
  eq(host({ host: '192.168.4.1', port: 81 }), '192.168.4.1:81');
});

test('client: invalid host, port and path throw', () => {
  for (const host of ['', 'a b', 'a/b', 'host:8080', 'x\r\nY: z', '[]', '[abc', 'h\u00e9']) {
    throws(() => createClientRequest({ ...CLIENT, host }, counting), /host/, JSON.stringify(host));
  }
  for (const port of [0, -1, 65536, 1.5, NaN]) throws(() => createClientRequest({ ...CLIENT, port }, counting), /port/, String(port));
  for (const path of ['', 'chat', '/a#frag', '/a b', '/a\r\nX: y', '/a\u0000', '/caf\u00e9']) {
    throws(() => createClientRequest({ ...CLIENT, path }, counting), /path/, JSON.stringify(path));
  }
  ok(createClientRequest({ ...CLIENT, path: '/a?b=c&d=%20' }, counting).request.startsWith('GET /a?b=c&d=%20 HTTP/1.1\r\n'));
});

test('client: subprotocols are listed in order; non-tokens and duplicates throw', () => {
  const { request: text } = createClientRequest({ ...CLIENT, subprotocols: ['chat', 'superchat'] }, counting);
  eq(headerValue(request(text).headers, 'sec-websocket-protocol'), 'chat, superchat');
  ok(createClientRequest({ ...CLIENT, subprotocols: [] }, counting).request.indexOf('Protocol') < 0, 'empty list: no header');
  for (const bad of ['', 'a b', 'a,b', 'a\r\n', '\u00e9', 'x/y']) {
    throws(() => createClientRequest({ ...CLIENT, subprotocols: [bad] }, counting), /subprotocol/, JSON.stringify(bad));
  }
  throws(() => createClientRequest({ ...CLIENT, subprotocols: ['a', 'b', 'a'] }, counting), /duplicate/);
});

test('client: Origin and custom headers are written', () => {
  const { request: text } = createClientRequest(
    { ...CLIENT, origin: 'https://app.example', headers: { Authorization: 'Bearer abc', 'X-Id': '7' } },
    counting,
  );
  const head = request(text);
  eq(headerValue(head.headers, 'origin'), 'https://app.example');
  eq(headerValue(head.headers, 'authorization'), 'Bearer abc');
  eq(headerValue(head.headers, 'x-id'), '7');
  ok(text.endsWith('X-Id: 7\r\n\r\n'));
});

test('client: header injection and invalid names throw', () => {
  const attempt = (headers: Record<string, string>): void => {
    createClientRequest({ ...CLIENT, headers }, counting);
  };
  throws(() => attempt({ 'X-A': 'a\r\nHost: evil' }), /control/);
  throws(() => attempt({ 'X-A': 'a\nb' }), /control/);
  throws(() => attempt({ 'X-A': 'a\u0000' }), /control/);
  throws(() => attempt({ 'Bad Name': 'a' }), /not a token/);
  throws(() => attempt({ 'X-A:': 'a' }), /not a token/);
  throws(() => attempt({ '': 'a' }), /not a token/);
  throws(() => createClientRequest({ ...CLIENT, origin: 'http://a\r\nX: y' }, counting), /origin/);
});

test('client: handshake headers cannot be overridden', () => {
  for (const name of ['Host', 'upgrade', 'CONNECTION', 'Sec-WebSocket-Key', 'sec-websocket-version',
    'Sec-WebSocket-Extensions', 'Sec-WebSocket-Protocol']) {
    throws(() => createClientRequest({ ...CLIENT, headers: { [name]: 'x' } }, counting), /cannot be overridden/, name);
  }
  throws(() => createClientRequest({ ...CLIENT, origin: 'https://a', headers: { Origin: 'https://b' } }, counting), /overridden/);
  ok(createClientRequest({ ...CLIENT, headers: { Origin: 'https://b' } }, counting).request.indexOf('Origin: https://b') > 0);
});

// ---- Response validation ----

test('validate: a good response, with and without a subprotocol', () => {
  deepEq(validateServerResponse(serverResponse(GOOD_RESPONSE), RFC_KEY, []), { ok: true, value: { protocol: '' } });
  deepEq(
    validateServerResponse(serverResponse([...GOOD_RESPONSE, ['Sec-WebSocket-Protocol', 'chat']]), RFC_KEY, ['superchat', 'chat']),
    { ok: true, value: { protocol: 'chat' } },
  );
  const loose = serverResponse([['upgrade', 'WebSocket'], ['connection', 'keep-alive, upgrade'], ['sec-websocket-accept', RFC_ACCEPT]], 'HTTP/1.1 101');
  ok(validateServerResponse(loose, RFC_KEY, []).ok, 'case-insensitive names and values');
});

test('validate: each failure has its own reason', () => {
  const without = (name: string) => GOOD_RESPONSE.filter(([n]) => n !== name);
  const with_ = (name: string, value: string) => [...without(name), [name, value] as const];
  const reasons = [
    reason(validateServerResponse(serverResponse(GOOD_RESPONSE, 'HTTP/1.1 404 Not Found'), RFC_KEY, [])),
    reason(validateServerResponse(serverResponse(without('Upgrade')), RFC_KEY, [])),
    reason(validateServerResponse(serverResponse(with_('Upgrade', 'websocket2')), RFC_KEY, [])),
    reason(validateServerResponse(serverResponse(with_('Connection', 'keep-alive')), RFC_KEY, [])),
    reason(validateServerResponse(serverResponse(without('Sec-WebSocket-Accept')), RFC_KEY, [])),
    reason(validateServerResponse(serverResponse(GOOD_RESPONSE), 'AAECAwQFBgcICQoLDA0ODw==', [])),
    reason(validateServerResponse(serverResponse([...GOOD_RESPONSE, ['Sec-WebSocket-Extensions', 'permessage-deflate']]), RFC_KEY, [])),
    reason(validateServerResponse(serverResponse([...GOOD_RESPONSE, ['Sec-WebSocket-Protocol', 'other']]), RFC_KEY, ['chat'])),
    reason(validateServerResponse(serverResponse([...GOOD_RESPONSE, ['Sec-WebSocket-Protocol', 'a, b']]), RFC_KEY, ['a', 'b'])),
  ];
  eq(reasons[0], 'expected status 101, got 404');
  for (let i = 0; i < reasons.length; i++) {
    for (let j = i + 1; j < reasons.length; j++) ok(reasons[i] !== reasons[j], `reasons ${i} and ${j} differ: ${reasons[i]}`);
  }
});

test('validate: a subprotocol when none was offered, or repeated, fails', () => {
  ok(!validateServerResponse(serverResponse([...GOOD_RESPONSE, ['Sec-WebSocket-Protocol', 'chat']]), RFC_KEY, []).ok);
  ok(!validateServerResponse(serverResponse([...GOOD_RESPONSE, ['Sec-WebSocket-Protocol', '']]), RFC_KEY, ['chat']).ok);
  const twice = serverResponse([...GOOD_RESPONSE, ['Sec-WebSocket-Protocol', 'chat'], ['Sec-WebSocket-Protocol', 'chat']]);
  ok(!validateServerResponse(twice, RFC_KEY, ['chat']).ok);
});

test('validate: a repeated accept header fails', () => {
  ok(!validateServerResponse(serverResponse([...GOOD_RESPONSE, ['Sec-WebSocket-Accept', RFC_ACCEPT]]), RFC_KEY, []).ok);
});

// ---- Both sides together ----

test('round trip: client request -> reader -> server 101 -> reader -> client validation', () => {
  const { request: reqText, key } = createClientRequest(
    { host: '::1', port: 9000, path: '/ws?x=1', origin: 'http://localhost', subprotocols: ['v2', 'v1'], headers: { 'X-Dev': 'esp32' } },
    counting,
  );
  const serverReader = new HttpHeadReader(reqText.length);
  const reqBytes = latin1Bytes(reqText);
  for (let i = 0; i < reqBytes.length - 1; i++) eq(serverReader.push(reqBytes, i, i + 1), -1);
  eq(serverReader.push(reqBytes, reqBytes.length - 1, reqBytes.length), reqBytes.length);
  const decision = accepted(acceptClientRequest(request(serverReader.text()), { subprotocols: ['v1', 'v2'], path: '/ws' }));
  eq(decision.key, key);
  eq(decision.protocol, 'v2');

  const clientReader = new HttpHeadReader(256);
  const resBytes = concat(latin1Bytes(decision.response), hex('82 00'));
  eq(clientReader.push(resBytes, 0, resBytes.length), decision.response.length);
  deepEq(validateServerResponse(response(clientReader.text()), key, ['v2', 'v1']), { ok: true, value: { protocol: 'v2' } });
  ok(!validateServerResponse(response(clientReader.text()), RFC_KEY, ['v2']).ok, 'another key does not match');
});
