// Types of mcsim.mjs for the TypeScript tests (test/app/helpers.ts).
export interface McsimInstance {
  readonly pid: number;
  readonly xsbugPort: number;
  readonly exited: Promise<number | string | null>;
  readonly running: boolean;
  stop(): Promise<void>;
  kill(): void;
}

export function startMcsim(options: {
  mcsim: string;
  so: string;
  display: string;
  xsbugPorts: [number, number];
  onText: (text: string) => void;
}): Promise<McsimInstance>;
