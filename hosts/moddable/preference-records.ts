// The RecordStore of Moddable hosts: the SDK's Preference (NVS on the ESP32, a JSON file
// on the desktop simulators), one domain, one string per record. A Preference that
// throws (NVS not initialised, a corrupt entry) reads as absent; a failed write throws
// to the caller, which reports it.
import Preference from 'preference';
import type { RecordStore } from 'websockets/device/records';

export class PreferenceRecords implements RecordStore {
  private readonly domain: string;

  /** domain: at most 15 characters (ESP32 NVS). */
  constructor(domain: string) {
    this.domain = domain;
  }

  read(key: string): string | undefined {
    try {
      const value = Preference.get(this.domain, key);
      return typeof value === 'string' ? value : undefined;
    } catch {
      return undefined;
    }
  }

  write(key: string, value: string): void {
    Preference.set(this.domain, key, value);
  }

  remove(key: string): void {
    try {
      Preference.delete(this.domain, key);
    } catch {
      // already absent
    }
  }
}
