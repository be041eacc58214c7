// The JavaScript stack our call chains take inside XS (test/stack/run.mjs over
// test/stack/entry.ts). A device has little: `creation.stack` is 384 slots in Moddable's
// simulator and 512 on the Atom Lite, and an overflow aborts the XS machine (the ESP32
// reboots; in the simulator the app's listeners die). The deepest chains are a socket
// callback that delivers a message whose handler sends (the echo, the LED broadcast).
// Also checks that a write failing inside a handler's send() reports the close later,
// from the timer: run on top of that handler's chain, the close handlers overflowed the
// simulator's stack (found by npm run soak against the Moddable simulator).
import { afterEach, describe, expect, it } from 'vitest';
import { killRunningChild, runXsReport } from '../xs/child-report';

afterEach(killRunningChild);

/**
 * The budget, in xsnap's slots. xsnap counts a little more than a device would: the fake
 * socket's own frames (about 2 frames, ~25 slots) sit under every callback, where a
 * device's native code calls it on an empty stack. Measured: 485 slots when a failed
 * write still reported the close inside the send; 427 once it came from the timer; 404
 * once the link became its connection's handler and the server's client entry a link.
 */
const BUDGET = 415;

describe('stack depth under XS', () => {
  it('the deepest callback chain stays within budget; a failed write closes from the timer', async () => {
    const report = await runXsReport<{ passed: number; failures: string[]; slots: number; pad: number; padEmpty: number }>('test/stack/run.mjs');
    expect(report.failures).toEqual([]);
    expect(report.passed).toBeGreaterThanOrEqual(30);
    expect(report.pad).toBeLessThan(report.padEmpty); // the measurement saw the chains at all
    expect(report.slots).toBeLessThanOrEqual(BUDGET);
  }, 120_000);
});
