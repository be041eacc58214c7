// A small typed event emitter. Listeners run inside try/catch: an exception from
// application code is reported on 'error' and never reaches the socket callbacks
// (on a device an unhandled exception reboots it).

type Listener = (...args: never[]) => void;
type ArgsOf<F> = F extends (...args: infer A) => void ? A : never;

export interface ErrorEvents {
  error: (error: Error, ...rest: never[]) => void;
}

export class Emitter<Events extends { [K in keyof Events]: Listener }> {
  private readonly listeners: { [K in keyof Events]?: Events[K][] } = {};

  on<K extends keyof Events>(event: K, listener: Events[K]): this {
    (this.listeners[event] ??= []).push(listener);
    return this;
  }

  off<K extends keyof Events>(event: K, listener: Events[K]): this {
    const list = this.listeners[event];
    const at = list ? list.indexOf(listener) : -1;
    if (list && at >= 0) list.splice(at, 1);
    return this;
  }

  protected hasListeners(event: keyof Events): boolean {
    const list = this.listeners[event];
    return !!list && list.length > 0;
  }

  /**
   * Call each listener of `event` with the arguments (at most five: 'chunk' has the
   * most). Fixed parameters, not a rest array: emit runs per message, and a rest
   * parameter would allocate an array each time (the hot path allocates nothing).
   */
  protected emit<K extends keyof Events, A extends unknown[] = ArgsOf<Events[K]>>(event: K, a?: A[0], b?: A[1], c?: A[2], d?: A[3], e?: A[4]): void {
    const list = this.listeners[event] as ((a: unknown, b: unknown, c: unknown, d: unknown, e: unknown) => void)[] | undefined;
    if (!list) return;
    for (let i = 0; i < list.length; i++) {
      try {
        list[i](a, b, c, d, e);
      } catch (error) {
        if (event !== 'error') this.reportError(error);
      }
    }
  }

  /** Route an exception from application code to 'error' listeners, never further. */
  protected reportError(error: unknown): void {
    const list = (this.listeners as Record<string, Listener[] | undefined>).error;
    if (!list) return;
    const e = error instanceof Error ? error : new Error(String(error));
    for (let i = 0; i < list.length; i++) {
      try {
        (list[i] as (e: Error) => void)(e);
      } catch {
        // nowhere left to report
      }
    }
  }
}
