// Waiting in tests: for a time, or for a condition (never for a count of events per
// unit of time). One copy for every suite.
import { performance } from 'node:perf_hooks';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves once `test()` holds; rejects after timeoutMs, naming `what`. */
export async function until(what: string, test: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!test()) {
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}
