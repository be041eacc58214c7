// RecordWriter (state writes at most once per interval) and ButtonGestures (short,
// double, long press) on the sim host's timer. Press sequences that must fall inside a
// window are given synchronously, so no timer can fire between them whatever the
// machine's speed; waits are for conditions.
import { describe, expect, it } from 'vitest';
import { RecordWriter } from '../../src/device/record-writer';
import { MemoryRecords } from '../../src/device/records';
import { ButtonGestures } from '../../src/device/button-gestures';
import { sleep, until } from '../wait';


class CountingRecords extends MemoryRecords {
  readonly writes: string[] = [];
  fail = false;
  override write(key: string, value: string): void {
    if (this.fail) throw new Error('flash full');
    this.writes.push(value);
    super.write(key, value);
  }
}

describe('RecordWriter', () => {
  it('writes the first change at once, then the latest of a burst once the interval ends', async () => {
    const store = new CountingRecords();
    const writer = new RecordWriter(store, 'state', 300, (e) => { throw e; });
    writer.changed(() => 'v0');
    expect(store.writes).toEqual(['v0']);
    for (let i = 1; i <= 100; i++) writer.changed(() => `v${i}`); // a drag: all inside the interval
    expect(store.writes).toEqual(['v0']);
    await until('the coalesced write', () => store.writes.length === 2);
    expect(store.writes).toEqual(['v0', 'v100']);
    expect(store.read('state')).toBe('v100');
  });

  it('does not write an unchanged record, and flush() writes a pending change at once', async () => {
    const store = new CountingRecords();
    store.write('state', 'same');
    store.writes.length = 0;
    const writer = new RecordWriter(store, 'state', 10_000, (e) => { throw e; });
    writer.changed(() => 'same');
    expect(store.writes).toEqual([]);
    writer.changed(() => 'new');
    expect(store.writes).toEqual(['new']);
    writer.changed(() => 'newer'); // within the interval: waits
    expect(store.writes).toEqual(['new']);
    writer.flush();
    expect(store.writes).toEqual(['new', 'newer']);
  });

  it('reports a failed write and tries again with the next change', () => {
    const store = new CountingRecords();
    const errors: string[] = [];
    const writer = new RecordWriter(store, 'state', 0, (e) => errors.push((e as Error).message));
    store.fail = true;
    writer.changed(() => 'a');
    expect(errors).toEqual(['flash full']);
    store.fail = false;
    writer.changed(() => 'b');
    expect(store.read('state')).toBe('b');
  });
});

describe('ButtonGestures', () => {
  function button(longMs = 3000, doubleMs = 400) {
    const seen: string[] = [];
    const errors: unknown[] = [];
    const gestures = new ButtonGestures(
      { short: () => seen.push('short'), double: () => seen.push('double'), long: () => seen.push('long') },
      { longMs, doubleMs, onError: (e) => errors.push(e) },
    );
    return { seen, errors, gestures };
  }

  it('a press and release is a short press, reported once the double-press window has passed', async () => {
    const { seen, gestures } = button(3000, 100);
    gestures.changed(true);
    gestures.changed(false);
    expect(seen).toEqual([]);
    await until('the short press', () => seen.length > 0);
    await sleep(150);
    expect(seen).toEqual(['short']);
  });

  it('two presses inside the window are one double press, and no short press', async () => {
    const { seen, gestures } = button(3000, 100);
    gestures.changed(true);
    gestures.changed(false);
    gestures.changed(true);
    gestures.changed(false);
    expect(seen).toEqual(['double']);
    await sleep(250);
    expect(seen).toEqual(['double']);
  });

  it('holding is a long press, reported while held; its release does nothing', async () => {
    const { seen, gestures } = button(80, 50);
    gestures.changed(true);
    await until('the long press', () => seen.length > 0);
    expect(seen).toEqual(['long']);
    gestures.changed(false);
    await sleep(150);
    expect(seen).toEqual(['long']);
  });

  it('repeated states (bounce) are ignored, and an action that throws does not escape', async () => {
    const errors: unknown[] = [];
    const gestures = new ButtonGestures(
      { short: () => { throw new Error('boom'); }, double: () => {}, long: () => {} },
      { doubleMs: 20, onError: (e) => errors.push(e) },
    );
    gestures.changed(true);
    gestures.changed(true);
    gestures.changed(false);
    gestures.changed(false);
    await until('the reported error', () => errors.length > 0);
    expect((errors[0] as Error).message).toBe('boom');
  });
});
