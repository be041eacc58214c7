// The set-up page's API over a WifiSetup, as JSON handlers for json-api.ts's apiRoute
// (which applies the shared rules: token, method, Content-Type, Origin, JSON parsing):
//   GET  /api/setup       -> 200, the status (mode, name, network, error, scan results)
//   POST /api/setup       {"ssid","password","name"?,"token"?} -> 202 with the status
//                         (mode "joining"), or 400 {"error":"..."} saying what is wrong
//   POST /api/setup/scan  {} -> 202 with the status (scanning true until done)
// A set-up body is small: over MAX_SETUP_BODY bytes is 413 whatever the server allows.
// The server's maxBodySize must allow it too: the longest valid form is 268 bytes as
// JSON.stringify writes it, up to ~430 when the password and token are all '"' or '\'.

import type { HttpRequest } from '../http/request-reader';
import type { RouteHandler } from '../http/static-response';
import { apiRoute } from './json-api';
import type { ApiAccess, JsonAnswer, JsonHandler } from './json-api';
import type { WifiSetup } from './wifi-setup';

/** The largest set-up body in bytes: any valid form as a browser's JSON.stringify writes it. */
export const MAX_SETUP_BODY = 512;

export interface SetupHandlers {
  /** GET /api/setup */
  status: JsonHandler;
  /** POST /api/setup */
  submit: JsonHandler;
  /** POST /api/setup/scan */
  scan: JsonHandler;
}

function tooLarge(request: HttpRequest): JsonAnswer | null {
  const body = request.body;
  return body && body.length > MAX_SETUP_BODY ? { status: 413, body: { error: `the body is larger than ${MAX_SETUP_BODY} bytes` } } : null;
}

/** The three handlers (parsed JSON body in, status and JSON value out). */
export function setupHandlers(setup: WifiSetup): SetupHandlers {
  return {
    status: () => {
      setup.notePageActivity();
      return { body: setup.status() };
    },
    submit: (body, request) => {
      const refused = tooLarge(request);
      if (refused) return refused;
      setup.notePageActivity();
      const error = setup.submit(body);
      if (error) return { status: 400, body: { error } };
      return { status: 202, body: setup.status() };
    },
    scan: (body, request) => {
      const refused = tooLarge(request);
      if (refused) return refused;
      if (body === null || typeof body !== 'object' || Array.isArray(body)) return { status: 400, body: { error: 'the body must be {}' } };
      for (const key in body) return { status: 400, body: { error: `unknown field "${key.length > 32 ? key.slice(0, 32) + '...' : key}"` } };
      setup.notePageActivity();
      setup.scan(); // false: one is running already, its results come the same way
      return { status: 202, body: setup.status() };
    },
  };
}

/**
 * The routes by path, for the HTTP server's route table. `access` should waive the token
 * while set-up is open (WifiSetup.setupOpen): physical presence, or no network yet.
 */
export function setupRoutes(setup: WifiSetup, access: ApiAccess): Record<string, RouteHandler> {
  const handlers = setupHandlers(setup);
  return {
    '/api/setup': apiRoute(access, { GET: handlers.status, POST: handlers.submit }),
    '/api/setup/scan': apiRoute(access, { POST: handlers.scan }),
  };
}
