// Echo and test servers for the Moddable simulator (mcsim on lin/mac/win): the same
// src/ modules as on the device and on Node, on Moddable's own ECMA-419 sockets.
// npm run test:moddable (test/moddable/run.mjs) runs the real-peer suites against it:
// Ports are offsets from the build's config portBase (mcconfig ... portBase=N; the
// runner picks a free block, so two runs on one machine do not collide):
// - base + 1: the stream-mode echo server of test/moddable/echo.test.ts;
// - the fixed servers of ./servers.ts (base + 10 ...), one per set of options the suites use;
// - base + 0: a control WebSocket (JSON text frames, test/moddable/control.ts) that
//   reports every server's events (with its clientsCount and listClients() at that
//   moment; a received message is followed by its payload as one frame), and runs the
//   commands a test would call on an in-process server:
//     {id, op: 'hello'}                      -> the servers, their ports and instance ids
//     {id, op: 'sync'}                       -> a reply after every earlier event
//     {id, op: 'status', s}                  -> {i, n: clientsCount, l: listClients(), running}
//     {id, op: 'renew', s}                   -> stops the instance, starts a fresh one: {i}
//     {id, op: 'behave', s, i, b}            -> a recorded instance does what Behaviour b
//                                               (./behaviour.ts) asks: true
//     {id, op: 'call', s, i, m, a, bin?}     -> server[m](...a[, the next binary frame])
//     {id, op: 'timers', n}                  -> runs n one-shot timers one after the other
//                                               (each set by the one before); replies with
//                                               how many fired once the last one has
//   A reply is {t: 're', id, v} or {t: 're', id, err}; an event is {t: 'ev', s, i, e, n, l, ...}
//   (e 'origin': a request its Behaviour's checkOrigin saw, reported before it answers).
import Timer from 'timer';
import config from 'mc/config';
import { startEchoServer } from 'websockets/apps/echo-app';
import { WebSocketServer } from 'websockets/server';
import { installModdablePlatform } from 'websockets/moddable-platform';
import { CONTROL_OFFSET, ECHO_OFFSET, SERVERS } from './servers';
import { messageBehaviour, originPolicy } from './behaviour';
import type { Behaviour } from './behaviour';

installModdablePlatform();

const BASE = Number(config.portBase);
if (!(BASE > 0 && BASE < 65536)) throw new Error(`config portBase ${String(config.portBase)}: not a port number`);
const portOf = (name: string): number => BASE + SERVERS[name]!.offset;

const server = startEchoServer({
  port: BASE + ECHO_OFFSET,
  maxClients: 8,
  receiveMode: 'stream',
  maxMessageSize: 64 * 1024 * 1024,
  chunkSize: 1024,
  readBufferSize: 1024,
  sendQueueSize: 8192,
  keepAliveInterval: 0,
  log: (line) => trace(line + '\n'),
});
trace(`echo server listening on port ${server.port}\n`);

// --- The control channel -------------------------------------------------------------

const control = new WebSocketServer({
  port: BASE + CONTROL_OFFSET,
  maxClients: 4,
  keepAliveInterval: 0,
  maxMessageSize: 4 << 20, // a binary argument (sendBinary of 1 MiB)
  readBufferSize: 4096,
  sendQueueSize: 16 << 20, // events carry every received message whole
});
const watchers = new Set<string>();
/** Events a full control link refused: reported with every later event, so a test fails loudly. */
let dropped = 0;

function post(text: string, payload?: string | Uint8Array): void {
  for (const client of watchers) {
    let ok = control.sendText(client, text);
    if (ok && payload !== undefined) ok = typeof payload === 'string' ? control.sendText(client, payload) : control.sendBinary(client, payload);
    if (!ok) {
      dropped++;
      trace(`control: ${client} could not take an event (${dropped} dropped)\n`);
    }
  }
}

// --- The fixed servers -------------------------------------------------------------------

interface Instance {
  readonly id: number;
  readonly server: WebSocketServer;
  running: boolean;
  /** What a recorded server does besides recording and echoing (op 'behave'); a fresh instance: nothing. */
  readonly asked: { behaviour: Behaviour };
}

const instances: Record<string, Instance> = {};
let nextId = 1;

function create(name: string): Instance {
  const fixed = SERVERS[name]!;
  const id = nextId++;
  const options = { ...fixed.options, port: portOf(name) };
  let server: WebSocketServer;
  const event = (e: string, fields: object, payload?: string | Uint8Array): void => {
    if (watchers.size === 0) return;
    post(JSON.stringify({ t: 'ev', s: name, i: id, e, n: server.clientsCount, l: server.listClients(), dropped, ...fields }), payload);
  };
  const asked = { behaviour: {} as Behaviour };
  const behaviour = (): Behaviour => asked.behaviour; // read at each handshake and message
  if (fixed.kind === 'echo-app') {
    server = startEchoServer({ ...options, log: (line) => event('log', { line }) });
  } else {
    // The twin of test/interop/peers/server-harness.ts's ServerUnderTest: record, then
    // echo, then the instance's Behaviour. Its checkOrigin accepts everything and reports
    // nothing until a Behaviour with allowOrigins is set (as no checkOrigin would).
    const s = new WebSocketServer({ ...options, checkOrigin: originPolicy(behaviour, (request) => event('origin', request)) });
    server = s;
    s.on('opened', (c, protocol) => event('opened', { c, protocol }));
    s.on('closed', (c, code, reason, wasClean) => event('closed', { c, code, reason, wasClean }));
    s.on('error', (error, c) => event('error', { c: c ?? null, m: error.message }));
    s.on('message', (c, data, isText) => event('message', { c, isText }, data));
    if (fixed.echo) {
      s.on('message', (c, data, isText) => {
        const ok = isText ? s.sendText(c, data as string) : s.sendBinary(c, data as Uint8Array);
        if (!ok) event('refused', { what: `${c} ${isText ? 'text' : 'binary'} ${isText ? (data as string).length : (data as Uint8Array).length}` });
      });
    }
    s.on('message', messageBehaviour(s, behaviour));
    s.start();
  }
  const instance = { id, server, running: true, asked };
  instances[name] = instance;
  return instance;
}

for (const name in SERVERS) create(name);

// --- Commands ---------------------------------------------------------------------------

interface Command {
  id: number;
  op: string;
  s?: string;
  i?: number;
  m?: string;
  a?: unknown[];
  bin?: boolean;
  b?: Behaviour;
  n?: number;
}

const CALLS = ['disconnectClient', 'send', 'sendText', 'sendBinary', 'broadcast', 'bufferedAmount', 'stop', 'start', 'listClients', 'clientsCount'];

function instanceOf(command: Command): Instance {
  const instance = command.s === undefined ? undefined : instances[command.s];
  if (!instance) throw new Error(`no server ${command.s}`);
  return instance;
}

function run(command: Command, bytes?: Uint8Array): unknown {
  switch (command.op) {
    case 'hello':
    case 'sync': {
      const servers: Record<string, { port: number; i: number }> = {};
      for (const name in instances) servers[name] = { port: portOf(name), i: instances[name]!.id };
      return { servers, dropped };
    }
    case 'status': {
      const instance = instanceOf(command);
      return { i: instance.id, n: instance.server.clientsCount, l: instance.server.listClients(), running: instance.running };
    }
    case 'renew': {
      const old = instanceOf(command);
      if (old.running) old.server.stop();
      return { i: create(command.s!).id };
    }
    case 'behave': {
      const instance = instanceOf(command);
      if (command.i !== instance.id) throw new Error(`instance ${command.i} of ${command.s} is gone (now ${instance.id})`);
      if (SERVERS[command.s!]!.kind !== 'recorded') throw new Error(`${command.s} is no recorded server`);
      instance.asked.behaviour = command.b ?? {};
      return true;
    }
    case 'call': {
      const instance = instanceOf(command);
      if (command.i !== instance.id) throw new Error(`instance ${command.i} of ${command.s} is gone (now ${instance.id})`);
      const method = command.m ?? '';
      if (CALLS.indexOf(method) < 0) throw new Error(`no call ${method}`);
      if (method === 'clientsCount') return instance.server.clientsCount;
      if (method === 'stop') instance.running = false;
      if (method === 'start') instance.running = true;
      const args = [...(command.a ?? [])];
      if (bytes) args.push(bytes);
      const target = instance.server as unknown as Record<string, (...a: unknown[]) => unknown>;
      return target[method]!.apply(instance.server, args);
    }
  }
  throw new Error(`no op ${command.op}`);
}

const awaitingBytes = new Map<string, Command>();

/**
 * Commands run in order from a timer, not inside the control link's message event: as an
 * application would call a server from its own turn, not from deep inside another
 * server's receive path (the simulator's XS stack is 384 slots).
 */
const queue: { client: string; command: Command; bytes?: Uint8Array }[] = [];
let draining = false;

function enqueue(client: string, command: Command, bytes?: Uint8Array): void {
  queue.push(bytes ? { client, command, bytes } : { client, command });
  if (draining) return;
  draining = true;
  Timer.set(() => {
    draining = false;
    for (let job = queue.shift(); job; job = queue.shift()) answer(job.client, job.command, job.bytes);
  }, 0);
}

/**
 * `count` one-shot timers in a chain: the simulator's Linux timers are numbered with 16
 * bits and lose one every 65,536 (hosts/moddable/timer-id-wrap.c); the chain stops there
 * unless the guard works. The reply comes when the last one has fired.
 */
function chainTimers(client: string, id: number, count: number): void {
  let fired = 0;
  const next = (): void => {
    fired++;
    if (fired < count) Timer.set(next, 0);
    else control.sendText(client, JSON.stringify({ t: 're', id, v: fired }));
  };
  Timer.set(next, 0);
}

function answer(client: string, command: Command, bytes?: Uint8Array): void {
  if (command.op === 'timers') {
    chainTimers(client, command.id, Number(command.n));
    return;
  }
  let reply: string;
  try {
    reply = JSON.stringify({ t: 're', id: command.id, v: run(command, bytes) });
  } catch (error) {
    reply = JSON.stringify({ t: 're', id: command.id, err: error instanceof Error ? error.message : String(error) });
  }
  if (!control.sendText(client, reply)) trace(`control: ${client} could not take a reply\n`);
}

control.on('opened', (client) => {
  watchers.add(client);
  answer(client, { id: 0, op: 'hello' });
});
control.on('closed', (client) => {
  watchers.delete(client);
  awaitingBytes.delete(client);
});
control.on('error', (error, client) => trace(`control ${client ?? ''}: ${error.message}\n`));
control.on('message', (client, data, isText) => {
  if (!isText) {
    const command = awaitingBytes.get(client);
    awaitingBytes.delete(client);
    if (command) enqueue(client, command, (data as Uint8Array).slice());
    return;
  }
  let command: Command;
  try {
    command = JSON.parse(data as string) as Command;
  } catch {
    trace(`control: not JSON: ${data as string}\n`);
    return;
  }
  if (command.bin) awaitingBytes.set(client, command);
  else enqueue(client, command);
});
control.start();

let ports = '';
for (const name in SERVERS) ports += ` ${name}:${portOf(name)}`;
trace(`test servers ready: control on port ${BASE + CONTROL_OFFSET};${ports}\n`);
