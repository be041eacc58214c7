// The simulator's Linux timers past 65,536 of them (hosts/moddable/timer-id-wrap.c): the
// SDK numbers its timers with 16 bits and frees the one numbered 0 before it fires, so
// without the guard a chain of one-shot timers stops after about 65,535 (the SDK alone:
// 65,533 callbacks, then nothing) and the record is freed twice later. Run by npm run
// test:moddable against the echo app.
import { describe, it, expect } from 'vitest';
import WebSocket from 'ws';
import { MODDABLE } from './mode';
import { moddableControl } from './control';

const CHAIN = 140_000; // two wraps of the 16-bit numbers, wherever the app's count stands

function echoOnce(url: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => ws.send(text));
    ws.once('message', (data) => {
      ws.close(1000);
      resolve(String(data));
    });
    ws.once('error', reject);
  });
}

describe('the simulator keeps its timers past 65,536 of them', () => {
  it(`a chain of ${CHAIN} one-shot timers runs to its end, and a connection opened afterwards is served`, async () => {
    const control = await moddableControl()!;
    // The chain takes about a second; without the guard it never ends.
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the chain of ${CHAIN} timers did not end within 30 s: a timer never fired`)), 30_000);
    });
    const fired = await Promise.race([control.request<number>('timers', { n: CHAIN }), stalled]).finally(() => clearTimeout(timer));
    expect(fired).toBe(CHAIN);
    // Each new socket gets a timer of its own (its 20 ms poll): served means polled.
    for (let i = 0; i < 3; i++) expect(await echoOnce(MODDABLE!.echo, `after the wrap ${i}`)).toBe(`after the wrap ${i}`);
  }, 60_000);
});
