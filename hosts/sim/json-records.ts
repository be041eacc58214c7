// The sim host's RecordStore: one JSON file ({"state": "<json>", "wifi": "<json>"}), by
// default under the user's config directory ($XDG_CONFIG_HOME, else ~/.config, on
// Windows %APPDATA%), written whole to a temporary file and renamed over the old one,
// so a crash mid-write leaves the previous records. An unreadable file reads as empty.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { RecordStore } from '../../src/device/records';

/** Where the sim host keeps its records unless told: <config dir>/moddable-websockets/led-sim.json. */
export function defaultRecordsFile(): string {
  const base = process.env.XDG_CONFIG_HOME || (process.platform === 'win32' ? process.env.APPDATA : undefined) || join(homedir(), '.config');
  return join(base, 'moddable-websockets', 'led-sim.json');
}

export class JsonFileRecords implements RecordStore {
  readonly file: string;
  private records: Record<string, string>;

  constructor(file: string) {
    this.file = file;
    this.records = {};
    try {
      const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        for (const [key, text] of Object.entries(value)) if (typeof text === 'string') this.records[key] = text;
      }
    } catch {
      // absent or broken: no records
    }
  }

  read(key: string): string | undefined {
    return Object.prototype.hasOwnProperty.call(this.records, key) ? this.records[key] : undefined;
  }

  write(key: string, value: string): void {
    this.records[key] = value;
    this.save();
  }

  remove(key: string): void {
    delete this.records[key];
    this.save();
  }

  private save(): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const temporary = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(this.records, null, 2) + '\n');
    renameSync(temporary, this.file);
  }
}
