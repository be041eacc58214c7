// HttpServer inside the real XS engine (xsnap): the scenarios of test/http/xs/entry.ts over
// synchronous fake sockets (parsing, streaming under a 1536-byte budget, pipelining, gzip,
// routes, 408/idle on a manual clock, the WebSocket hand-off, 503), and the XS slots one
// idle keep-alive connection holds. Runs test/http/xs/run.mjs in a child process because
// @agoric/xsnap locks down the process that loads it.
import { afterEach, describe, expect, it } from 'vitest';
import { killRunningChild, runXsReport } from '../xs/child-report';

afterEach(killRunningChild);

describe('HttpServer under XS', () => {
  it('passes every scenario; an idle keep-alive connection holds few slots', async () => {
    const report = await runXsReport<{
      passed: number;
      failures: string[];
      open: number[];
      timers: number[];
      slotsPerConnection: number;
      bufferBytesPerConnection: number;
    }>('test/http/xs/run.mjs');
    expect(report.failures).toEqual([]);
    expect(report.passed).toBeGreaterThanOrEqual(30);
    expect(report.open).toEqual([1, 4]);
    expect(report.timers).toEqual([1, 4]); // one timer per connection, none left by closed or handed-off ones
    expect(report.slotsPerConnection).toBeLessThanOrEqual(80); // a budget: what it was before the HTTP split into reader, writer and connection
    expect(report.bufferBytesPerConnection).toBe(2560);
  }, 60_000);
});
