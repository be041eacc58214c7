// RFC 6455 section 4: the opening handshake, client and server side, as pure
// functions over parsed heads and strings. No I/O, no host globals.

import { base64Decode, base64Encode } from '../bytes/base64';
import { headerValue, hasToken, isFieldText, isToken, latin1Bytes, listItems, reasonPhrase } from '../http/head';
import type { HttpRequestHead, HttpResponseHead } from '../http/head';
import { sha1 } from '../bytes/sha1';

export { latin1Bytes } from '../http/head';

/** Fills out with random bytes (the host's CSPRNG). */
export type RandomSource = (out: Uint8Array) => void;

export type HandshakeResult<T> = { ok: true; value: T } | { ok: false; reason: string };

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

// null = the TypeScript sha1 (a binding that starts as a function is read-only after
// Moddable preloads the module, so overridable bindings start as null).
let digest: ((data: Uint8Array) => Uint8Array) | null = null;

/** Install a native SHA-1 (must return the 20-byte digest of all of data). */
export function setSha1(fn: (data: Uint8Array) => Uint8Array): void {
  digest = fn;
}

/** The Sec-WebSocket-Accept value for a Sec-WebSocket-Key. */
export function acceptKey(key: string): string {
  const bytes = latin1Bytes(key + GUID);
  return base64Encode(digest ? digest(bytes) : sha1(bytes));
}

// Header names the handshake owns; callers may not set them through `headers`.
const RESERVED = Object.freeze([
  'host', 'upgrade', 'connection', 'sec-websocket-key', 'sec-websocket-version',
  'sec-websocket-extensions', 'sec-websocket-protocol', 'sec-websocket-accept',
]);

// Field values we write are checked with isFieldText (HTAB, SP, VCHAR, obs-text): anything
// else (CR, LF, NUL...) could inject headers. The RegExps below are created on first use,
// not at module load (see headPatterns in ./http-head: preloaded RegExps crash XS).
interface RequestPatterns {
  /** A resource name: visible ASCII, no fragment (RFC 6455 section 3); the server refuses '#' too. */
  readonly path: RegExp;
  /** RFC 3986 reg-name (also covers IPv4): unreserved, sub-delims and pct-encoded characters. */
  readonly host: RegExp;
  readonly ipv6: RegExp;
}

let patterns: RequestPatterns | null = null;

function requestPatterns(): RequestPatterns {
  patterns ??= {
    path: /^\/[\x21\x22\x24-\x7e]*$/,
    host: /^[0-9A-Za-z\-._~!$&'()*+,;=%]+$/,
    ipv6: /^[0-9A-Fa-f:.]+$/,
  };
  return patterns;
}

function checkValue(what: string, value: string): void {
  if (!isFieldText(value)) throw new Error(`${what} contains a control character (CR, LF, NUL...)`);
}

export interface ClientRequestOptions {
  host: string;
  port: number;
  /** Resource name: starts with '/', may carry a query; no spaces. */
  path: string;
  secure?: boolean;
  origin?: string;
  subprotocols?: readonly string[];
  headers?: Readonly<Record<string, string>>;
}

/**
 * The client's opening handshake head (ending with CRLFCRLF) and the key sent in it
 * (keep it for validateServerResponse). Throws an Error on invalid options.
 */
export function createClientRequest(options: ClientRequestOptions, random: RandomSource): { request: string; key: string } {
  const { path, port, secure = false } = options;
  const safe = requestPatterns();
  if (!safe.path.test(path)) throw new Error(`invalid path ${JSON.stringify(path)}: must start with '/' and contain no spaces, '#' or control characters`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid port ${port}`);
  let host = options.host;
  // IPv6 literals are bracketed in Host (RFC 3986 IP-literal); other names must not hold ':'.
  const bracketed = host.length > 2 && host[0] === '[' && host[host.length - 1] === ']';
  const bare = bracketed ? host.slice(1, -1) : host;
  if (bare.indexOf(':') >= 0 ? !safe.ipv6.test(bare) : bracketed || !safe.host.test(bare)) {
    throw new Error(`invalid host ${JSON.stringify(options.host)} (give the port separately)`);
  }
  if (bare.indexOf(':') >= 0) host = `[${bare}]`;
  if (port !== (secure ? 443 : 80)) host += `:${port}`;

  const nonce = new Uint8Array(16);
  random(nonce);
  const key = base64Encode(nonce);

  let request =
    `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n`;

  const protocols = options.subprotocols ?? [];
  for (let i = 0; i < protocols.length; i++) {
    if (!isToken(protocols[i])) throw new Error(`invalid subprotocol ${JSON.stringify(protocols[i])}: not a token`);
    if (protocols.indexOf(protocols[i]) !== i) throw new Error(`duplicate subprotocol ${JSON.stringify(protocols[i])}`);
  }
  if (protocols.length) request += `Sec-WebSocket-Protocol: ${protocols.join(', ')}\r\n`;

  if (options.origin !== undefined) {
    checkValue('origin', options.origin);
    request += `Origin: ${options.origin}\r\n`;
  }

  const extra = options.headers ?? {};
  for (const name of Object.keys(extra)) {
    const value = extra[name];
    if (!isToken(name)) throw new Error(`invalid header name ${JSON.stringify(name)}: not a token`);
    const lower = name.toLowerCase();
    if (RESERVED.indexOf(lower) >= 0 || (lower === 'origin' && options.origin !== undefined)) {
      throw new Error(`header ${name} is set by the handshake and cannot be overridden`);
    }
    checkValue(`header ${name}`, value);
    request += `${name}: ${value}\r\n`;
  }
  return { request: request + '\r\n', key };
}

/**
 * Client side: check the server's response head (RFC 6455 section 4.1, steps 1-6).
 * value.protocol is the subprotocol the server chose, '' for none.
 */
export function validateServerResponse(
  head: HttpResponseHead,
  key: string,
  offered: readonly string[],
): HandshakeResult<{ protocol: string }> {
  const fail = (reason: string): HandshakeResult<{ protocol: string }> => ({ ok: false, reason });
  const { headers } = head;
  if (head.status !== 101) return fail(`expected status 101, got ${head.status}`);
  const upgrade = headerValue(headers, 'upgrade');
  if (upgrade === undefined) return fail('missing Upgrade header');
  if (upgrade.toLowerCase() !== 'websocket') return fail(`Upgrade header is ${JSON.stringify(upgrade)}, expected websocket`);
  if (!hasToken(headerValue(headers, 'connection'), 'upgrade')) return fail('Connection header lacks upgrade');
  const accept = headerValue(headers, 'sec-websocket-accept');
  if (accept === undefined) return fail('missing Sec-WebSocket-Accept header');
  if (accept !== acceptKey(key)) return fail('Sec-WebSocket-Accept does not match the key');
  if (headers.has('sec-websocket-extensions')) return fail('server sent Sec-WebSocket-Extensions, none were offered');
  const protocols = headers.get('sec-websocket-protocol');
  if (protocols === undefined) return { ok: true, value: { protocol: '' } };
  if (protocols.length !== 1 || protocols[0].indexOf(',') >= 0) return fail('server sent more than one subprotocol');
  const protocol = protocols[0];
  if (offered.indexOf(protocol) < 0) return fail(`server chose subprotocol ${JSON.stringify(protocol)}, which was not offered`);
  return { ok: true, value: { protocol } };
}

export interface ServerHandshakeOptions {
  /** Subprotocols this server speaks; the client's first listed match is chosen. */
  subprotocols?: readonly string[];
  /** Return false to refuse with 403. Origin is undefined for non-browser clients. */
  checkOrigin?: (origin: string | undefined, request: HttpRequestHead) => boolean;
  /** Sent as the Server header on every response. */
  serverName?: string;
  /** When set, the target's path (before '?') must equal it, else 404. */
  path?: string;
}

export type ServerDecision =
  | { ok: true; key: string; protocol: string; response: string }
  | { ok: false; status: number; reason: string; response: string };

function serverLine(serverName: string | undefined): string {
  if (serverName === undefined) return '';
  checkValue('serverName', serverName);
  return `Server: ${serverName}\r\n`;
}

/**
 * A complete error response head and body: "Connection: close", a text/plain body
 * of reason (non-printable characters become '?'). extraHeaders is zero or more
 * header lines, e.g. "Allow: GET\r\n" (a missing final CRLF is added).
 */
export function errorResponse(status: number, reason: string, serverName?: string, extraHeaders = ''): string {
  const body = reason.replace(/[^\x20-\x7e]/g, '?') + '\n';
  if (extraHeaders && !extraHeaders.endsWith('\r\n')) extraHeaders += '\r\n';
  return (
    `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\n` +
    serverLine(serverName) +
    `Connection: close\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n` +
    extraHeaders +
    '\r\n' +
    body
  );
}

/** Numeric HTTP version, e.g. 1.1 -> 11; -1 if not "HTTP/d.d". */
function versionNumber(version: string): number {
  const m = /^HTTP\/([0-9])\.([0-9])$/.exec(version);
  return m ? Number(m[1]) * 10 + Number(m[2]) : -1;
}

/**
 * Server side: decide on a client's opening handshake (RFC 6455 section 4.2.1/4.2.2).
 * Never throws for bad client input; throws only for an invalid options.serverName.
 */
export function acceptClientRequest(request: HttpRequestHead, options: ServerHandshakeOptions): ServerDecision {
  const { headers } = request;
  const server = options.serverName;
  const refuse = (status: number, reason: string, extra?: string): ServerDecision => ({
    ok: false,
    status,
    reason,
    response: errorResponse(status, reason, server, extra),
  });

  if (request.method !== 'GET') return refuse(405, `method ${request.method} not allowed`, 'Allow: GET\r\n');
  if (versionNumber(request.version) < 11) return refuse(400, `${request.version} is not HTTP/1.1 or later`);
  const host = headers.get('host');
  if (!host || host.length !== 1 || host[0] === '') return refuse(400, 'missing or repeated Host header');
  const target = request.target;
  // Origin-form only (a resource name), and no fragment (RFC 6455 section 3).
  if (target[0] !== '/' || target.indexOf('#') >= 0) return refuse(400, 'invalid request target');
  if (options.path !== undefined) {
    const q = target.indexOf('?');
    if ((q < 0 ? target : target.slice(0, q)) !== options.path) return refuse(404, 'no WebSocket endpoint at this path');
  }
  if (!hasToken(headerValue(headers, 'upgrade'), 'websocket')) return refuse(400, 'Upgrade header lacks websocket');
  if (!hasToken(headerValue(headers, 'connection'), 'upgrade')) return refuse(400, 'Connection header lacks upgrade');
  if (headerValue(headers, 'sec-websocket-version') !== '13') {
    return refuse(426, 'unsupported WebSocket version, expected 13', 'Sec-WebSocket-Version: 13\r\n');
  }
  const key = headerValue(headers, 'sec-websocket-key');
  const nonce = key === undefined ? null : base64Decode(key);
  if (key === undefined || !nonce || nonce.length !== 16) return refuse(400, 'invalid Sec-WebSocket-Key');
  if (options.checkOrigin && !options.checkOrigin(headerValue(headers, 'origin'), request)) {
    return refuse(403, 'origin not allowed');
  }

  let protocol = '';
  const supported = options.subprotocols ?? [];
  for (const wanted of listItems(headerValue(headers, 'sec-websocket-protocol'))) {
    if (supported.indexOf(wanted) >= 0) {
      protocol = wanted;
      break;
    }
  }

  const response =
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n` +
    (protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : '') +
    serverLine(server) +
    '\r\n';
  return { ok: true, key, protocol, response };
}
