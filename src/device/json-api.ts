// JSON routes for a device's HTTP API, under one set of rules (the Host allow-list is
// the HTTP server's). A route built with apiRoute() checks, in this order:
// - the token, when the device has one: "Authorization: Bearer <token>" or ?token=<token>
//   (401 with WWW-Authenticate); a route may waive it (set-up while in set-up mode);
// - the method (405 with Allow; HEAD is answered as GET without a body);
// - for POST: "Content-Type: application/json" (415), and an Origin header, when sent, must
//   be http://<Host> (403): another site's page can neither post a form (wrong type) nor
//   a fetch (its Origin) to the device;
// - the body: UTF-8 JSON (400), at most the HTTP server's maxBodySize (413, the server's).
// Answers are JSON; errors are {"error":"<one sentence>"}.

import type { HttpRequest } from '../http/request-reader';
import type { RouteHandler, RouteResponse } from '../http/static-response';
import { headerValue } from '../http/head';
import { decodeUtf8, isValidUtf8 } from '../bytes/utf8';

/** Who may use the API. */
export interface ApiAccess {
  /** The device's token now (it may change at set-up), or undefined for none. */
  token(): string | undefined;
  /** True when this request need not carry the token (set-up, asked on the set-up network). */
  tokenWaived?(request: HttpRequest): boolean;
}

/** A route's answer: a status (default 200) and a value sent as JSON. */
export interface JsonAnswer {
  status?: number;
  body: unknown;
}

/** A method's handler: the parsed JSON body (undefined for GET) and the request. */
export type JsonHandler = (body: unknown, request: HttpRequest) => JsonAnswer;

export interface JsonMethods {
  GET?: JsonHandler;
  POST?: JsonHandler;
}

/** A JSON response. */
export function json(status: number, body: unknown, headers?: Readonly<Record<string, string>>): RouteResponse {
  return { status, contentType: 'application/json', body: JSON.stringify(body), headers };
}

/** A JSON error answer: {"error": message}. */
export function jsonError(status: number, message: string, headers?: Readonly<Record<string, string>>): RouteResponse {
  return json(status, { error: message }, headers);
}

/** The token a request carries (Authorization: Bearer, else ?token=), or undefined. */
export function requestToken(request: HttpRequest): string | undefined {
  const authorization = headerValue(request.headers, 'authorization');
  if (authorization !== undefined && authorization.slice(0, 7).toLowerCase() === 'bearer ') return authorization.slice(7).trim();
  return queryParameter(request.target, 'token');
}

/** Compare without stopping at the first difference (the time taken does not tell where a guess went wrong). */
function sameText(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i % (b.length || 1));
  return diff === 0;
}

/** A route answering `methods` with JSON, under the API's rules (see the file's comment). */
export function apiRoute(access: ApiAccess, methods: JsonMethods): RouteHandler {
  const allow = methods.POST ? (methods.GET ? 'GET, HEAD, POST' : 'POST') : 'GET, HEAD';
  return (request) => {
    const token = access.token();
    if (token !== undefined && !access.tokenWaived?.(request)) {
      const given = requestToken(request);
      if (given === undefined || !sameText(given, token)) {
        return jsonError(401, 'this device needs its token: Authorization: Bearer <token>, or ?token=<token>', { 'WWW-Authenticate': 'Bearer' });
      }
    }
    const method = request.method === 'HEAD' ? 'GET' : request.method;
    const handler = method === 'GET' ? methods.GET : method === 'POST' ? methods.POST : undefined;
    if (!handler) return jsonError(405, `${request.method} is not allowed here (allowed: ${allow})`, { Allow: allow });
    if (method === 'GET') return answer(handler(undefined, request));
    const type = headerValue(request.headers, 'content-type');
    if (type === undefined || type.split(';')[0].trim().toLowerCase() !== 'application/json') {
      return jsonError(415, 'send the body as JSON with Content-Type: application/json');
    }
    const origin = headerValue(request.headers, 'origin');
    const host = headerValue(request.headers, 'host');
    if (origin !== undefined && (host === undefined || origin.toLowerCase() !== `http://${host.toLowerCase()}`)) {
      return jsonError(403, 'requests from pages of another site are refused');
    }
    const bytes = request.body ?? new Uint8Array(0);
    if (!isValidUtf8(bytes)) return jsonError(400, 'the body is not UTF-8 text');
    let body: unknown;
    try {
      body = JSON.parse(decodeUtf8(bytes));
    } catch {
      return jsonError(400, 'the body is not valid JSON');
    }
    return answer(handler(body, request));
  };
}

function answer(result: JsonAnswer): RouteResponse {
  return json(result.status ?? 200, result.body);
}

/** The decoded value of a query parameter of a request target ("/ws?token=a%20b"), or undefined. */
export function queryParameter(target: string, name: string): string | undefined {
  const q = target.indexOf('?');
  if (q < 0) return undefined;
  for (const pair of target.slice(q + 1).split('&')) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (key !== name) continue;
    try {
      return eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1));
    } catch {
      return undefined; // malformed escape: no valid token
    }
  }
  return undefined;
}
