// The simulator's LED: prints `LED #rrggbb` on its own line on every change.
import type { Led } from '../../src/apps/led-app';

export class VirtualLed implements Led {
  private readonly write: (line: string) => void;

  constructor(write: (line: string) => void = (line) => process.stdout.write(line + '\n')) {
    this.write = write;
  }

  set(r: number, g: number, b: number): void {
    this.write(`LED #${hex(r)}${hex(g)}${hex(b)}`);
  }
}

function hex(n: number): string {
  return (n < 16 ? '0' : '') + n.toString(16);
}
