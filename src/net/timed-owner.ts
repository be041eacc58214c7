// One Moddable timer per connection, re-armed for the earliest deadline: the base of
// SocketLink and HttpConnection. A base class rather than a helper object, so that a
// connection's timer costs no extra XS object (the Atom Lite's heap counts slots).

import Timer from 'timer';
import { platformNow } from './platform';

type TimerId = ReturnType<typeof Timer.set>;

export abstract class TimedOwner {
  private timer: TimerId | null = null;
  private timerAt = Infinity;

  /** The armed time has come (the timer fired at or after it). */
  protected abstract onDeadline(): void;

  /**
   * Arm the timer for `at` (platformNow() ms); Infinity clears it. When an earlier time
   * is armed it stays: the owner re-arms for `at` when that one fires.
   */
  protected armDeadline(at: number): void {
    if (at === Infinity) {
      this.clearDeadline();
      return;
    }
    if (this.timer && at >= this.timerAt) return;
    const delay = Math.max(0, Math.ceil(at - platformNow()));
    if (this.timer) Timer.schedule(this.timer, delay);
    else this.timer = Timer.set(() => this.fire(), delay);
    this.timerAt = at;
  }

  protected clearDeadline(): void {
    if (this.timer) Timer.clear(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }

  private fire(): void {
    this.timer = null; // a one-shot timer is spent once it fired
    this.timerAt = Infinity;
    this.onDeadline();
  }
}
