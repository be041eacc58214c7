// Our declaration of Moddable's `timer` module (documentation/base/timer.md), the one
// timer API every Moddable host has. hosts/sim implements it over Node timers.
declare module 'timer' {
  export type TimerId = object;
  const Timer: {
    /** Call once after `delay` ms; with `repeat`, then every `repeat` ms. */
    set(callback: (id: TimerId) => void, delay?: number, repeat?: number): TimerId;
    /** Call every `interval` ms. */
    repeat(callback: (id: TimerId) => void, interval: number): TimerId;
    /** Re-arm an existing timer. */
    schedule(id: TimerId, delay: number, repeat?: number): void;
    clear(id: TimerId): void;
  };
  export default Timer;
}
