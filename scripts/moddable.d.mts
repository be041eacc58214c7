// Types of the parts of moddable.mjs that the TypeScript tests use (test/app/helpers.ts).
export interface Sdk {
  readonly moddable: string;
  readonly host: 'lin' | 'mac' | 'win';
  readonly bin: string;
  readonly env: Record<string, string | undefined>;
}

export class SetupError extends Error {}

export function findSdk(options?: { npm?: boolean }): Sdk;

export interface SimulatorInstance {
  readonly pid: number;
  readonly xsbugPort: number;
  readonly exited: Promise<number | string | null>;
  readonly running: boolean;
  /** SIGTERM by PID, SIGKILL after 5 s; then the debugger listener and config copy go. */
  stop(): Promise<void>;
  /** For 'exit' handlers: SIGKILL, no waiting. */
  kill(): void;
}

export function startSimulator(
  sdk: Sdk,
  options: { app: string; display?: string; onText?: (text: string) => void; onLine?: (line: string) => void; xsbug?: boolean; xsbugPort?: number; console?: boolean; cwd?: string },
): Promise<SimulatorInstance>;

export function shownCommand(command: string, args?: string[]): string;
