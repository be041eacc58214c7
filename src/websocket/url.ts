// ws:// and wss:// URL parsing without the URL global (XS on a device has none).

export interface WebSocketUrl {
  /** wss:// (TLS). */
  secure: boolean;
  host: string;
  /** Default 80 for ws://, 443 for wss://. */
  port: number;
  /** Path and query, starting with '/'. */
  path: string;
}

/** Parse ws[s]://host[:port][/path][?query]. Throws a clear Error for anything else. */
export function parseWebSocketUrl(url: string): WebSocketUrl {
  const match = /^(wss?):\/\/([^/?#]+)([^#]*)(#.*)?$/i.exec(url);
  if (!match) throw new Error(`not a ws:// or wss:// URL: ${url}`);
  const secure = match[1].toLowerCase() === 'wss';
  if (match[4]) throw new Error('a WebSocket URL may not have a fragment');
  const authority = match[2];
  if (authority.indexOf('@') >= 0) throw new Error('user info in a WebSocket URL is not supported');
  let host = authority;
  let port = secure ? 443 : 80;
  if (authority[0] === '[') throw new Error('IPv6 addresses are not supported by ECMA-419 TCP sockets');
  const colon = authority.lastIndexOf(':');
  if (colon >= 0) {
    host = authority.slice(0, colon);
    const digits = authority.slice(colon + 1);
    if (!/^[0-9]{1,5}$/.test(digits) || Number(digits) < 1 || Number(digits) > 65535) throw new Error(`invalid port in ${url}`);
    port = Number(digits);
  }
  if (!/^[A-Za-z0-9.-]+$/.test(host)) throw new Error(`invalid host in ${url}`);
  let path = match[3] || '/';
  if (path[0] === '?') path = '/' + path;
  if (/[\s\x7f]/.test(path) || /[^\x21-\x7e]/.test(path)) throw new Error(`invalid characters in the path of ${url}`);
  return { secure, host: host.toLowerCase(), port, path };
}

/** True for a dotted-quad IPv4 address. */
export function isIPv4(host: string): boolean {
  const parts = host.split('.');
  if (parts.length !== 4) return false;
  for (const part of parts) {
    if (!/^[0-9]{1,3}$/.test(part) || Number(part) > 255) return false;
  }
  return true;
}
