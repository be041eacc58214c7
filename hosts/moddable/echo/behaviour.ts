// What a recorded test server does besides recording its events (and echoing), written
// down as plain data so that a test asks the same of a server in its own process and of
// one in the Moddable simulator: test/interop/peers/server-harness.ts's ServerUnderTest
// applies it to its in-process server with these functions, and under test:moddable
// sends it over the control channel ({op: 'behave'}) to the echo app's fixed server
// (./main.ts), which applies it with the same functions. Shared by the app and the Node
// tests: type imports only.

import type { HttpRequestHead } from 'websockets/http/head';
import type { WebSocketServer } from 'websockets/server';

export interface Behaviour {
  /**
   * A checkOrigin that reports every handshake request (OriginRequest), then accepts
   * exactly these origins: null stands for a request without an Origin header, and an
   * empty list refuses all. Absent: no checkOrigin (every origin accepted, nothing reported).
   */
  allowOrigins?: (string | null)[];
  /** A message listener (after the echo) that throws `new Error(message)` on the text message `text`. */
  throwOn?: { text: string; message: string };
  /** A message listener (after the echo) that calls disconnectClient(endpoint, code, reason) on the text message `text`. */
  disconnectOn?: { text: string; code: number; reason: string };
}

/** What checkOrigin saw of a handshake request: its Origin and the headers that make it an upgrade. */
export interface OriginRequest {
  origin: string | undefined;
  connection: string | undefined;
  upgrade: string | undefined;
  version: string | undefined;
}

/** True when `behaviour` asks for nothing. */
export function isPlain(behaviour: Behaviour): boolean {
  return !behaviour.allowOrigins && !behaviour.throwOn && !behaviour.disconnectOn;
}

/** A header's value as src/http/head.ts's headerValue gives it (the head's names are lower case). */
function header(request: HttpRequestHead, name: string): string | undefined {
  const values = request.headers.get(name);
  return values ? values.join(', ') : undefined;
}

/**
 * The checkOrigin of `behaviour()`'s allowOrigins (read at each handshake): `report` gets
 * the request first, then the answer is whether its origin is in the list. Without a list
 * it accepts and reports nothing, as a server without checkOrigin would.
 */
export function originPolicy(
  behaviour: () => Behaviour,
  report: (request: OriginRequest) => void,
): (origin: string | undefined, request: HttpRequestHead) => boolean {
  return (origin, request) => {
    const allow = behaviour().allowOrigins;
    if (!allow) return true;
    report({
      origin,
      connection: header(request, 'connection'),
      upgrade: header(request, 'upgrade'),
      version: header(request, 'sec-websocket-version'),
    });
    return allow.indexOf(origin ?? null) >= 0;
  };
}

/** The message listener of `behaviour()`'s throwOn and disconnectOn (read at each message). */
export function messageBehaviour(server: WebSocketServer, behaviour: () => Behaviour): (client: string, data: string | Uint8Array, isText: boolean) => void {
  return (client, data, isText) => {
    if (!isText) return;
    const { throwOn, disconnectOn } = behaviour();
    if (disconnectOn && data === disconnectOn.text) server.disconnectClient(client, disconnectOn.code, disconnectOn.reason);
    if (throwOn && data === throwOn.text) throw new Error(throwOn.message);
  };
}
