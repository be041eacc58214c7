// Types of scripts/stress/attackers.mjs for the TypeScript tests (test/app/hardening.test.ts).
interface Attacker {
  readonly connections: number;
  /** Connections that ended while not stopped (the server closed or reset them). */
  readonly dropped: number;
  stop(): void;
}
export class Slowloris implements Attacker {
  constructor(port: number, everyMs?: number);
  readonly connections: number;
  readonly dropped: number;
  stop(): void;
}
export class SilentHolder implements Attacker {
  constructor(port: number, holdMs: number);
  readonly connections: number;
  readonly dropped: number;
  stop(): void;
}
