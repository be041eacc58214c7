// "Start our echo server with these options" for the probe suites: in-process on Node
// (src/apps/echo-app.ts on the sim host, port 0) under `npm test`, or, under npm run
// test:moddable, the server with the same options already running in the Moddable
// simulator (hosts/moddable/echo/servers.ts; its log lines arrive over the control
// channel and go to the same `log` callback).

import { startEchoServer } from '../../../src/apps/echo-app';
import type { EchoOptions } from '../../../src/apps/echo-app';
import { SERVERS, optionsKey } from '../../../hosts/moddable/echo/servers';
import type { PlainServerOptions } from '../../../hosts/moddable/echo/servers';
import { moddableControl } from '../../moddable/control';

const control = await moddableControl();

export interface EchoTarget {
  /** Where peers connect (127.0.0.1). */
  readonly port: number;
  /** Where it runs, for messages. */
  readonly where: string;
  /** The server's open clients. */
  clientsCount(): Promise<number>;
  /** Stop it (in the simulator: and start a fresh one for whoever comes next). */
  stop(): Promise<void>;
}

/** Options as hosts/moddable/echo/servers.ts writes them: no port, no log, no functions. */
export function plainOptions(options: object): PlainServerOptions {
  const plain: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (key === 'port' || key === 'log' || value === undefined) continue;
    if (typeof value === 'function') throw new Error(`option ${key} is a function: no server in the Moddable simulator can take it`);
    plain[key] = value;
  }
  return plain as PlainServerOptions;
}

/** startEchoServer(options) in-process, or the simulator's echo server `name` (whose options must be the same). */
export async function startEchoTarget(name: string, options: EchoOptions): Promise<EchoTarget> {
  if (!control) {
    const server = startEchoServer(options);
    return {
      port: server.port!,
      where: 'in-process',
      clientsCount: () => Promise.resolve(server.clientsCount),
      stop: () => Promise.resolve(server.stop()),
    };
  }
  const fixed = SERVERS[name];
  if (!fixed || fixed.kind !== 'echo-app') throw new Error(`no echo-app server ${name} in hosts/moddable/echo/servers.ts`);
  const wanted = optionsKey(plainOptions(options));
  if (wanted !== optionsKey(fixed.options)) {
    throw new Error(`hosts/moddable/echo/servers.ts: ${name} has ${optionsKey(fixed.options)}, the test wants ${wanted}`);
  }
  const instance = control.instances.get(name)!;
  const log = options.log;
  const unsubscribe = control.subscribe(name, (event) => {
    if (event.i === instance && event.e === 'log' && log) log(event.line as string);
  });
  return {
    port: control.ports.get(name)!,
    where: `the Moddable simulator (${name})`,
    clientsCount: async () => {
      const state = await control.status(name);
      if (state.i !== instance) throw new Error(`${name}: instance ${instance} was replaced by ${state.i}`);
      return state.n;
    },
    stop: async () => {
      await control.sync(); // the last log lines first
      unsubscribe();
      await control.retire(name, instance);
    },
  };
}
