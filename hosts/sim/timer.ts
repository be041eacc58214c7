// Moddable's `timer` module for the Node simulator, after modules/base/timer (mc):
// - set(callback, delay = 0, repeat = 0), repeat(callback, interval),
//   schedule(id, delay, repeat = 0), schedule(id) unschedules, clear(id).
// - Callbacks run with `this` = globalThis and receive the timer id (an opaque object).
//   A delay of 0 (or less) fires on the next turn (setImmediate); others use
//   setTimeout. Repeats do not drift: each is due `repeat` ms after the previous due
//   time.
// - After a callback returns, a timer whose repeat interval is 0 is cleared, even when
//   the callback re-armed it with schedule(id, delay) (no repeat): Moddable does the
//   same, so re-arm a one-shot from inside its callback with a repeat, or with a new
//   Timer.set. An unscheduled timer (schedule(id)) stays valid.
// - schedule() on a cleared or finished timer throws a SyntaxError (XS: "no host
//   data"); clear() of anything that is not a live timer (undefined, null, a finished
//   timer) does nothing.
// - Pending timers keep Node alive (not unref'd), as the Moddable run loop does.

import { performance } from 'node:perf_hooks';
import type DeclaredTimer from 'timer';

export type TimerId = object;

interface State {
  callback: (id: TimerId) => void;
  handle: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate> | null;
  immediate: boolean;
  due: number;
  repeat: number;
  unscheduled: boolean;
  rearmed: boolean;
}

const timers = new WeakMap<TimerId, State>();

function integer(value: unknown): number {
  const n = Math.trunc(Number(value));
  return Number.isFinite(n) ? n : 0;
}

function cancel(state: State): void {
  if (state.handle) {
    if (state.immediate) clearImmediate(state.handle as ReturnType<typeof setImmediate>);
    else clearTimeout(state.handle as ReturnType<typeof setTimeout>);
  }
  state.handle = null;
}

function arm(id: TimerId, state: State, due: number): void {
  cancel(state);
  state.due = due;
  const delay = due - performance.now();
  if (delay <= 0) {
    state.immediate = true;
    state.handle = setImmediate(fire, id);
  } else {
    state.immediate = false;
    state.handle = setTimeout(fire, delay, id);
  }
}

function fire(id: TimerId): void {
  const state = timers.get(id);
  if (!state) return;
  state.handle = null;
  state.rearmed = false;
  try {
    state.callback.call(globalThis, id);
  } finally {
    if (timers.get(id) === state) {
      if (state.repeat === 0) clear(id);
      else if (!state.unscheduled && !state.rearmed) arm(id, state, Math.max(state.due + state.repeat, performance.now()));
    }
  }
}

function create(callback: (id: TimerId) => void, delay: number, repeat: number): TimerId {
  if (typeof callback !== 'function') throw new TypeError('timer: callback must be a function');
  const id: TimerId = Object.freeze(Object.create(null) as object);
  const state: State = { callback, handle: null, immediate: false, due: 0, repeat, unscheduled: false, rearmed: false };
  timers.set(id, state);
  arm(id, state, performance.now() + delay);
  return id;
}

function set(callback: (id: TimerId) => void, delay?: number, repeat?: number): TimerId {
  return create(callback, integer(delay), integer(repeat));
}

function repeat(callback: (id: TimerId) => void, interval: number): TimerId {
  const n = integer(interval);
  return create(callback, n, n);
}

function schedule(id: TimerId, ...intervals: [delay?: number, repeat?: number]): void {
  const state = typeof id === 'object' && id !== null ? timers.get(id) : undefined;
  if (!state) throw new SyntaxError('timer: not a live timer (no host data)');
  if (intervals.length === 0) {
    cancel(state);
    state.unscheduled = true;
    state.repeat = -1;
    return;
  }
  state.unscheduled = false;
  state.rearmed = true;
  state.repeat = integer(intervals[1]);
  arm(id, state, performance.now() + integer(intervals[0]));
}

function clear(id?: TimerId | null): void {
  if (typeof id !== 'object' || id === null) return;
  const state = timers.get(id);
  if (!state) return;
  cancel(state);
  timers.delete(id);
}

const Timer = { set, repeat, schedule, clear };

export default Timer;

/** Compile-time check that the simulator matches hosts/typings/timer.d.ts. */
export type Conformance = [typeof Timer] extends [typeof DeclaredTimer] ? true : never;
const conforms: Conformance = true;
void conforms;
