// The client testee's logic, shared by the sim host (test/testee/fuzzing-client.ts) and
// the Moddable simulator (hosts/moddable/testee/main.ts, as 'fuzzing-testee'): only
// type imports of our modules (each host names them its own way: relative paths on
// Node, websockets/* specifiers on Moddable), so the client class comes in through the
// settings; the one module imported is Moddable's `timer`, which every host has (Node:
// hosts/sim/timer.ts). A file of its own, apart from the echo testee's testees.ts: the
// echo testee's memory bound (test/interop/testee-server.test.ts) is sensitive to the
// size of its bundle.
import Timer from 'timer';
import type { ClientOptions, WebSocketClient } from '../../src/net/client';

export interface FuzzingClientSettings {
  /** The fuzzing server, e.g. ws://127.0.0.1:9001 (no trailing slash needed). */
  url: string;
  agent: string;
  maxMessage: number;
  /** Bound on each step (/getCaseCount, each case, /updateReports), from connect to close (ms). */
  caseTimeout: number;
  /** Bound on the whole run (ms). */
  deadline: number;
  /** `new WebSocketClient(options)`, from the host's module. */
  createClient: (options: ClientOptions) => WebSocketClient;
  /** Progress lines (stdout on the sim host). */
  log: (line: string) => void;
  /** Errors (stderr on the sim host). */
  error: (line: string) => void;
}

/** Defaults of the client testee's bounds: --case-timeout and --deadline (ms). */
export const DEFAULT_CASE_TIMEOUT = 60000;
export const DEFAULT_DEADLINE = 30 * 60000;
/** The longest delay a timer takes (Node's setTimeout fires at once beyond it). */
const MAX_DELAY = 2147483647;

/**
 * Why `value` (the text given for `option`, e.g. --case-timeout) is not a usable bound in
 * ms, or '' when it is: a whole number from 1 to 2^31 - 1.
 */
export function checkMilliseconds(option: string, value: string): string {
  if (/^[0-9]+$/.test(value) && Number(value) >= 1 && Number(value) <= MAX_DELAY) return '';
  return `${option} ${value}: not a whole number of milliseconds from 1 to ${MAX_DELAY}`;
}

/** How one step (one WebSocket connection) ended. */
interface Step {
  /** 'closed': its 'close' event came; 'timeout': none within caseTimeout (then aborted); 'deadline': the run's deadline cut it. */
  end: 'closed' | 'timeout' | 'deadline';
  /** The opening handshake completed. */
  opened: boolean;
  code: number;
  reason: string;
  /** The first 'error' event's message ('' if none). */
  error: string;
}

/** The run: its settings, and the step in progress, which the deadline can cut. */
interface Run {
  s: FuzzingClientSettings;
  base: string;
  expired: boolean;
  stop: (() => void) | null;
}

function visit(run: Run, path: string, onText?: (text: string) => void): Promise<Step> {
  const s = run.s;
  return new Promise((resolve) => {
    const step: Step = { end: 'deadline', opened: false, code: 0, reason: '', error: '' };
    if (run.expired) {
      resolve(step);
      return;
    }
    const client = s.createClient({
      receiveMode: 'stream',
      chunkSize: 16384,
      maxMessageSize: s.maxMessage,
      readBufferSize: 16384,
      sendQueueSize: 65536,
      sendBufferSize: 16384,
      // No keep-alive pings: they would add frames to what the fuzzer records. A silent
      // server is cut by the step's timer below (abort()); these two bound the opening
      // and the close handshake on their own when the step may last longer.
      keepAliveInterval: 0,
      connectTimeout: 10000,
      serverTimeout: 10000,
    });
    let done = false;
    let timer: ReturnType<typeof Timer.set> | null = null;
    const finish = (end: Step['end']): void => {
      if (done) return;
      done = true;
      step.end = end;
      if (timer) Timer.clear(timer);
      run.stop = null;
      resolve(step);
    };
    // Cut the step (resolve first: abort() may report 'close' at once, and that is not a close the server sent).
    const cut = (end: Step['end']): void => {
      finish(end);
      client.abort();
    };
    timer = Timer.set(() => {
      timer = null; // fired: nothing to clear
      cut('timeout');
    }, s.caseTimeout);
    run.stop = () => cut('deadline');
    let text = '';
    client.on('open', () => (step.opened = true));
    client.on('chunk', (data, isText, first, last) => {
      if (onText) {
        if (isText) {
          let piece = '';
          for (let i = 0; i < data.length; i++) piece += String.fromCharCode(data[i]!);
          text = first ? piece : text + piece;
          if (last) onText(text);
        }
        return;
      }
      if (!client.sendFragment(data, isText, first, last)) client.close(1011, 'echo could not keep up');
    });
    client.on('close', (code, reason) => {
      step.code = code;
      step.reason = reason;
      finish('closed');
    });
    client.on('error', (e) => {
      if (!step.error) step.error = e.message;
    });
    try {
      client.connect(run.base + path);
    } catch (error) {
      step.error = error instanceof Error ? error.message : String(error);
      finish('closed');
    }
  });
}

/** At most 40 characters of what the server sent, quoted. */
function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? text.slice(0, 40) + '...' : text);
}

/**
 * The Autobahn fuzzingserver protocol with our WebSocketClient: GET /getCaseCount, then
 * /runCase?case=N&agent=NAME for each case echoing every message, then
 * /updateReports?agent=NAME. Each step is cut after caseTimeout ms, the whole run after
 * deadline ms. Resolves to the process exit status: 0 when every case ran to its close
 * (whatever the close: the fuzzer judges the cases) and the reports were updated; 1,
 * with one sentence through `error`, when there was no usable case count, a step failed
 * or timed out, or the deadline passed; 2 for unusable settings.
 */
export async function runFuzzingClient(s: FuzzingClientSettings): Promise<number> {
  const bad = checkMilliseconds('--case-timeout', String(s.caseTimeout)) || checkMilliseconds('--deadline', String(s.deadline));
  if (bad) {
    s.error(bad);
    return 2;
  }
  const run: Run = { s, base: s.url.replace(/\/+$/, ''), expired: false, stop: null };
  const deadline = Timer.set(() => {
    run.expired = true;
    if (run.stop) run.stop();
  }, s.deadline);
  const within = `within ${s.caseTimeout} ms (--case-timeout)`;
  let where = 'in /getCaseCount';
  try {
    const answer: { text: string | null } = { text: null };
    const counted = await visit(run, '/getCaseCount', (text) => {
      if (answer.text === null) answer.text = text;
    });
    if (counted.end === 'deadline') return expired(run, where);
    if (!counted.opened && counted.end === 'closed') {
      s.error(`cannot reach the fuzzing server at ${run.base}: ${counted.error || `closed ${counted.code}`}`);
      return 1;
    }
    const text = answer.text;
    if (text === null) {
      if (counted.end === 'timeout') s.error(`the fuzzing server sent no case count: GET /getCaseCount got no answer ${within}`);
      else s.error(`the fuzzing server closed /getCaseCount (${counted.code}) without sending a case count`);
      return 1;
    }
    if (!/^[0-9]+$/.test(text.trim())) {
      s.error(`the fuzzing server answered /getCaseCount with ${quote(text)}, not a whole number of cases`);
      return 1;
    }
    const count = Number(text.trim());
    if (count === 0) {
      s.error(`the fuzzing server has no cases to run (it answered /getCaseCount with ${quote(text)})`);
      return 1;
    }
    if (counted.end === 'timeout') {
      s.error(`the fuzzing server sent the case count but did not close /getCaseCount ${within}`);
      return 1;
    }
    s.log(`${count} cases`);
    const failed: string[] = [];
    for (let n = 1; n <= count; n++) {
      where = `in case ${n} of ${count}`;
      const step = await visit(run, `/runCase?case=${n}&agent=${encodeURIComponent(s.agent)}`);
      if (step.end === 'deadline') return expired(run, where);
      if (step.end === 'timeout') {
        s.log(`case ${n}: no close ${within}, aborted`);
        failed.push(`case ${n} got no close ${within}`);
      } else if (!step.opened) {
        s.log(`case ${n}: did not open: ${step.error || `closed ${step.code}`}`);
        failed.push(`case ${n} did not open (${step.error || `closed ${step.code}`})`);
      } else {
        const error = step.error ? ` (error: ${step.error})` : '';
        s.log(`case ${n}: closed ${step.code}${step.reason ? ' ' + step.reason : ''}${error}`);
      }
    }
    where = 'in /updateReports';
    const reports = await visit(run, `/updateReports?agent=${encodeURIComponent(s.agent)}`, () => {});
    if (reports.end === 'deadline') return expired(run, where);
    if (failed.length > 0) {
      const shown = failed.length > 10 ? [...failed.slice(0, 10), `${failed.length - 10} more`] : failed;
      s.error(`${failed.length} of ${count} cases did not run to their close: ${shown.join('; ')}`);
      return 1;
    }
    if (reports.end === 'timeout') {
      s.error(`the fuzzing server did not close /updateReports ${within}`);
      return 1;
    }
    if (!reports.opened) {
      s.error(`the fuzzing server did not update the reports: ${reports.error || `closed ${reports.code}`}`);
      return 1;
    }
    s.log('reports updated');
    return 0;
  } finally {
    if (!run.expired) Timer.clear(deadline);
  }
}

function expired(run: Run, where: string): number {
  run.s.error(`the run did not finish within its deadline of ${run.s.deadline} ms (--deadline): stopped ${where}`);
  return 1;
}
