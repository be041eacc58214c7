// The LED app's HTTP API beside its WebSocket, for scripts and home-automation tools,
// under the rules of src/device/json-api.ts (token, method, JSON, Origin):
//   GET  /api/state -> {"on":true,"color":"#20b060","brightness":69}
//   POST /api/state with any of those fields -> the new state (every open page follows)
//   GET  /api/info  -> {"name":"atom-led-1a2b","url":"http://atom-led-1a2b.local/","mode":"online"}

import type { RouteHandler } from '../http/static-response';
import { parseLedPatch } from '../device/led-state';
import { apiRoute } from '../device/json-api';
import type { ApiAccess } from '../device/json-api';
import type { LedApp } from './led-app';

/** What /api/info tells. */
export interface DeviceInfo {
  name: string;
  url: string;
  mode: string;
}

/** GET/POST /api/state and GET /api/info. */
export function ledApiRoutes(app: LedApp, access: ApiAccess, info: () => DeviceInfo): Record<string, RouteHandler> {
  return {
    '/api/state': apiRoute(access, {
      GET: () => ({ body: app.state.view() }),
      POST: (body) => {
        const patch = parseLedPatch(body);
        if (typeof patch === 'string') return { status: 400, body: { error: patch } };
        app.apply(patch);
        return { body: app.state.view() };
      },
    }),
    '/api/info': apiRoute(access, { GET: () => ({ body: info() }) }),
  };
}
