// One button, three actions, from its presses and releases: a short press, a double
// press (a second press within `doubleMs` of the first release) and a long press (held
// `longMs`: reported while still held, so the user sees it happen). A short press is
// reported once the double-press window has passed without a second press.

import Timer from 'timer';

type TimerId = ReturnType<typeof Timer.set>;

export interface ButtonActions {
  short(): void;
  double(): void;
  long(): void;
}

export interface GestureOptions {
  /** Held this long: a long press (ms, default 3000). */
  longMs?: number;
  /** A second press within this long of the first release: a double press (ms, default 400). */
  doubleMs?: number;
  /** An action threw (it never escapes into the host's pin callback: a device would reboot). */
  onError?: (error: unknown) => void;
}

export class ButtonGestures {
  private readonly actions: ButtonActions;
  private readonly longMs: number;
  private readonly doubleMs: number;
  private readonly onError: ((error: unknown) => void) | undefined;
  private timer: TimerId | null = null;
  private down = false;
  /** The press in progress is the second of a pair. */
  private second = false;
  /** The press in progress was reported as long: its release does nothing. */
  private longDone = false;
  /** A first press was released and waits for a possible second. */
  private waiting = false;

  constructor(actions: ButtonActions, options: GestureOptions = {}) {
    this.actions = actions;
    this.longMs = options.longMs ?? 3000;
    this.doubleMs = options.doubleMs ?? 400;
    this.onError = options.onError;
  }

  /** The button's state changed; repeated states (bounce, a missed edge) are ignored. */
  changed(pressed: boolean): void {
    if (pressed === this.down) return;
    this.down = pressed;
    this.clear();
    if (pressed) {
      this.second = this.waiting;
      this.waiting = false;
      this.longDone = false;
      this.timer = Timer.set(() => this.held(), this.longMs);
      return;
    }
    if (this.longDone) return;
    if (this.second) {
      this.second = false;
      this.report(this.actions.double);
      return;
    }
    this.waiting = true;
    this.timer = Timer.set(() => this.alone(), this.doubleMs);
  }

  private held(): void {
    this.timer = null;
    this.longDone = true;
    this.second = false;
    this.report(this.actions.long);
  }

  private alone(): void {
    this.timer = null;
    this.waiting = false;
    this.report(this.actions.short);
  }

  private clear(): void {
    if (this.timer) Timer.clear(this.timer);
    this.timer = null;
  }

  private report(action: () => void): void {
    try {
      action.call(this.actions);
    } catch (error) {
      this.onError?.(error);
    }
  }
}
