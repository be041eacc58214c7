// MdnsAnnouncer against a scripted responder (the test decides each report and when it
// comes, so the conflict/rename/failure paths are exact) and against SimulatedMdns (the
// sim hosts' responder, on the sim timer). Loopback only: nothing here touches a network.
import { describe, expect, it } from 'vitest';
import { MdnsAnnouncer } from '../../src/device/mdns-announcer';
import type { MdnsListener, MdnsResponder } from '../../src/device/mdns-announcer';
import { SimulatedMdns } from '../../src/device/simulated-wifi';
import { until } from '../wait';


/** A responder whose reports the test sends: listener() is the one of the latest start. */
class ScriptedResponder implements MdnsResponder {
  readonly calls: string[] = [];
  private listeners: MdnsListener[] = [];
  throwOnStart: Error | null = null;
  throwOnAdvertise: Error | null = null;

  start(hostName: string, listener: MdnsListener): void {
    this.calls.push(`start ${hostName}`);
    if (this.throwOnStart) throw this.throwOnStart;
    this.listeners.push(listener);
  }
  advertiseHttp(port: number): void {
    this.calls.push(`http ${port}`);
    if (this.throwOnAdvertise) throw this.throwOnAdvertise;
  }
  stop(): void {
    this.calls.push('stop');
  }
  listener(index = this.listeners.length - 1): MdnsListener {
    const listener = this.listeners[index];
    if (!listener) throw new Error('not started');
    return listener;
  }
}

function setUp(options: { port?: number; maxConflicts?: number } = {}) {
  const responder = new ScriptedResponder();
  const log: string[] = [];
  const announcer = new MdnsAnnouncer(responder, { ...options, log: (line) => log.push(line) });
  const claimed: string[] = [];
  const failed: string[] = [];
  announcer.onClaimed = (name) => claimed.push(name);
  announcer.onFailed = (reason) => failed.push(reason);
  return { responder, announcer, log, claimed, failed };
}

describe('MdnsAnnouncer', () => {
  it('claims the name, then advertises HTTP and reports the name, URL and host name', () => {
    const { responder, announcer, claimed } = setUp();
    expect(announcer.hostNames()).toEqual([]);
    announcer.announce('atom-led-2b3c');
    expect(announcer.state).toBe('probing');
    expect(responder.calls).toEqual(['start atom-led-2b3c']);
    expect(announcer.url()).toBe('');
    responder.listener().claimed('atom-led-2b3c');
    expect(announcer.state).toBe('claimed');
    expect(responder.calls).toEqual(['start atom-led-2b3c', 'http 80']);
    expect(claimed).toEqual(['atom-led-2b3c']);
    expect(announcer.claimedName).toBe('atom-led-2b3c');
    expect(announcer.url()).toBe('http://atom-led-2b3c.local/');
    expect(announcer.hostNames()).toEqual(['atom-led-2b3c.local']);
  });

  it('puts a port other than 80 in the URL and the service', () => {
    const { responder, announcer } = setUp({ port: 8080 });
    announcer.announce('my-led');
    responder.listener().claimed('my-led');
    expect(responder.calls).toContain('http 8080');
    expect(announcer.url()).toBe('http://my-led.local:8080/');
  });

  it('accepts the responder renaming after a conflict and reports the claimed name', () => {
    const { responder, announcer, claimed, log } = setUp();
    announcer.announce('atom-led-2b3c');
    expect(responder.listener().conflict('atom-led-2b3c')).toBe(false); // go on: the responder renames
    expect(responder.listener().conflict('atom-led-2b3c-2')).toBe(false);
    responder.listener().claimed('atom-led-2b3c-3');
    expect(claimed).toEqual(['atom-led-2b3c-3']);
    expect(announcer.requestedName).toBe('atom-led-2b3c');
    expect(announcer.claimedName).toBe('atom-led-2b3c-3');
    expect(announcer.hostNames()).toEqual(['atom-led-2b3c-3.local']);
    expect(announcer.url()).toBe('http://atom-led-2b3c-3.local/');
    expect(log.join('\n')).toContain('atom-led-2b3c.local is taken; announcing atom-led-2b3c-3.local');
  });

  it('gives up after maxConflicts renames; the failure is reported and the responder stopped', () => {
    const { responder, announcer, claimed, failed } = setUp({ maxConflicts: 2 });
    announcer.announce('led');
    const listener = responder.listener();
    expect(listener.conflict('led')).toBe(false);
    expect(listener.conflict('led-2')).toBe(false);
    expect(listener.conflict('led-3')).toBe(true); // the third: give up
    listener.failed('every name is taken');
    expect(announcer.state).toBe('failed');
    expect(announcer.failure).toBe('every name is taken');
    expect(failed).toEqual(['every name is taken']);
    expect(claimed).toEqual([]);
    expect(announcer.hostNames()).toEqual([]);
    expect(responder.calls.at(-1)).toBe('stop');
    listener.claimed('led-4'); // a late report after the failure changes nothing
    expect(announcer.state).toBe('failed');
    expect(claimed).toEqual([]);
  });

  it('reports a responder failure (e.g. no socket)', () => {
    const { responder, announcer, failed } = setUp();
    announcer.announce('led');
    responder.listener().failed('cannot open the multicast socket');
    expect(announcer.state).toBe('failed');
    expect(failed).toEqual(['cannot open the multicast socket']);
  });

  it('a responder that throws at start is a failure, not an exception', () => {
    const { responder, announcer, failed } = setUp();
    responder.throwOnStart = new Error('no network');
    expect(() => announcer.announce('led')).not.toThrow();
    expect(announcer.state).toBe('failed');
    expect(failed).toEqual(['the responder did not start: no network']);
  });

  it('a failing service advertisement still leaves the name claimed', () => {
    const { responder, announcer, claimed, log } = setUp();
    responder.throwOnAdvertise = new Error('not ready');
    announcer.announce('led');
    responder.listener().claimed('led');
    expect(announcer.state).toBe('claimed');
    expect(claimed).toEqual(['led']);
    expect(log.join('\n')).toContain('advertising the HTTP service failed: not ready');
  });

  it('a new name stops the old announcement; the old responder reports are ignored', () => {
    const { responder, announcer, claimed } = setUp();
    announcer.announce('old-name');
    responder.listener().claimed('old-name');
    announcer.announce('new-name');
    expect(responder.calls).toEqual(['start old-name', 'http 80', 'stop', 'start new-name']);
    expect(announcer.claimedName).toBe('');
    expect(announcer.hostNames()).toEqual([]);
    responder.listener(0).claimed('old-name'); // stale
    expect(responder.listener(0).conflict('old-name')).toBe(true); // stale: stop
    expect(announcer.state).toBe('probing');
    responder.listener(1).claimed('new-name');
    expect(claimed).toEqual(['old-name', 'new-name']);
    expect(announcer.hostNames()).toEqual(['new-name.local']);
  });

  it('stop() withdraws the name', () => {
    const { responder, announcer } = setUp();
    announcer.announce('led');
    responder.listener().claimed('led');
    announcer.stop();
    expect(responder.calls.at(-1)).toBe('stop');
    expect(announcer.state).toBe('idle');
    expect(announcer.hostNames()).toEqual([]);
    expect(announcer.requestedName).toBe('');
  });

  it('an exception in the onClaimed hook stays out of the responder', () => {
    const { responder, announcer, log } = setUp();
    announcer.onClaimed = () => {
      throw new Error('app bug');
    };
    announcer.announce('led');
    expect(() => responder.listener().claimed('led')).not.toThrow();
    expect(announcer.state).toBe('claimed');
    expect(log.join('\n')).toContain('app bug');
  });
});

describe('SimulatedMdns (the sim hosts responder)', () => {
  it('claims a free name after its probe', async () => {
    const responder = new SimulatedMdns({ probeDelay: 10 });
    const announcer = new MdnsAnnouncer(responder, { port: 8080 });
    announcer.announce('atom-led-1a2b');
    expect(responder.hostName).toBe('');
    await until('the claim', () => announcer.state === 'claimed');
    expect(responder.hostName).toBe('atom-led-1a2b');
    expect(responder.httpPort).toBe(8080);
    expect(announcer.url()).toBe('http://atom-led-1a2b.local:8080/');
    announcer.stop();
    expect(responder.hostName).toBe('');
  });

  it('renames as Moddable does while other devices hold the name', async () => {
    const responder = new SimulatedMdns({ probeDelay: 5, taken: ['atom-led-1a2b', 'ATOM-LED-1A2B-2'] });
    const announcer = new MdnsAnnouncer(responder);
    announcer.announce('atom-led-1a2b');
    await until('the end of probing', () => announcer.state !== 'probing');
    expect(announcer.claimedName).toBe('atom-led-1a2b-3');
  });

  it('fails when every name it may try is taken', async () => {
    const taken = ['led', 'led-2', 'led-3'];
    const responder = new SimulatedMdns({ probeDelay: 5, taken });
    const announcer = new MdnsAnnouncer(responder, { maxConflicts: 2 });
    const failed: string[] = [];
    announcer.onFailed = (reason) => failed.push(reason);
    announcer.announce('led');
    await until('the end of probing', () => announcer.state !== 'probing');
    expect(announcer.state).toBe('failed');
    expect(failed).toEqual(['led-3.local and the names after it are taken']);
  });
});
