// Writes one record at most once per interval, so that dragging a colour across the
// page (tens of changes a second) does not wear out the device's flash: the first
// change after a quiet interval is written at once, later ones within the interval are
// coalesced and the latest is written when the interval ends. An unchanged text is not
// written again. A power cut loses at most the last interval's changes.

import Timer from 'timer';
import { platformNow } from '../net/platform';
import type { RecordStore } from './records';

type TimerId = ReturnType<typeof Timer.set>;

export class RecordWriter {
  private readonly store: RecordStore;
  private readonly key: string;
  private readonly interval: number;
  private readonly onError: (error: unknown) => void;
  private produce: (() => string) | null = null;
  private timer: TimerId | null = null;
  private lastWrite = -Infinity;
  private storedText: string | undefined;

  /** interval: ms between writes; onError: a write failed (the record stays as it was). */
  constructor(store: RecordStore, key: string, interval: number, onError: (error: unknown) => void) {
    this.store = store;
    this.key = key;
    this.interval = interval;
    this.onError = onError;
    this.storedText = store.read(key);
  }

  /** The record's text as last stored: read once when the writer is made, then what it wrote. */
  get written(): string | undefined {
    return this.storedText;
  }

  /** The record changed: `produce` gives its text when the write happens. */
  changed(produce: () => string): void {
    this.produce = produce;
    if (this.timer) return;
    const wait = this.lastWrite + this.interval - platformNow();
    if (wait <= 0) this.write();
    else this.timer = Timer.set(() => this.fire(), Math.ceil(wait));
  }

  /** Write a pending change now (before a restart). */
  flush(): void {
    if (this.timer) Timer.clear(this.timer);
    this.timer = null;
    this.write();
  }

  private fire(): void {
    this.timer = null;
    this.write();
  }

  private write(): void {
    const produce = this.produce;
    this.produce = null;
    if (!produce) return;
    try {
      const text = produce();
      if (text === this.storedText) return;
      this.lastWrite = platformNow();
      this.store.write(this.key, text);
      this.storedText = text;
    } catch (error) {
      this.onError(error);
    }
  }
}
