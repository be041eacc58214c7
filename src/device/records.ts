// Where a device keeps its few records across reboots (the LED state, the Wi-Fi
// credentials): Moddable's Preference on a device (ESP32 NVS: keys of at most 15
// characters), a JSON file under the user's config directory on the sim host. Records
// are JSON text, so every host stores the same thing and a broken record reads as absent.

/** Small records kept across reboots: Moddable Preference on a device, a JSON file on the sim host. */
export interface RecordStore {
  /** The stored JSON text of `key`, or undefined. Never throws (a broken store reads as empty). */
  read(key: string): string | undefined;
  /** Store `value` under `key`; throws when the store cannot (the caller reports it). */
  write(key: string, value: string): void;
  /** Forget `key`. */
  remove(key: string): void;
}

/** A store that forgets everything at restart (tests, and hosts without storage). */
export class MemoryRecords implements RecordStore {
  private readonly records = new Map<string, string>();

  read(key: string): string | undefined {
    return this.records.get(key);
  }

  write(key: string, value: string): void {
    this.records.set(key, value);
  }

  remove(key: string): void {
    this.records.delete(key);
  }
}

/** Parse a stored record as a JSON object; undefined when absent or not an object. */
export function readRecord(store: RecordStore, key: string): Record<string, unknown> | undefined {
  return parseRecord(store.read(key));
}

/** A record's text as a JSON object; undefined when absent or not an object. */
export function parseRecord(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
