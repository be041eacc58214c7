// The RecordStore of Moddable hosts: the SDK's Preference (NVS on the ESP32, a JSON file
// on the desktop simulators), one domain, one string per record. A Preference that
// throws (NVS not initialised, a corrupt entry) reads as absent; a failed write throws
// to the caller, which reports it.
//
// The app hands in the Preference class (led-main imports 'preference') instead of this
// module importing it: this module is preloaded, and a preloaded module's imports run at
// build time too. On lin the SDK's Preference is JavaScript that reads its file into a
// static cache when it loads (it is not preloaded there on purpose): run by the preload,
// it read mcconfig's working directory at build time and every later write threw in
// mcsim (nothing was ever kept). Loaded by the app, it reads and writes mcsim's working
// directory at run time, as it should. On the ESP32 the SDK preloads its native
// Preference anyway.
import type Preference from 'preference';
import type { RecordStore } from 'websockets/device/records';

/** The SDK's Preference class (its static get/set/delete). */
export type PreferenceStore = Pick<typeof Preference, 'get' | 'set' | 'delete'>;

export class PreferenceRecords implements RecordStore {
  private readonly preference: PreferenceStore;
  private readonly domain: string;

  /** preference: the SDK's Preference; domain: at most 15 characters (ESP32 NVS). */
  constructor(preference: PreferenceStore, domain: string) {
    this.preference = preference;
    this.domain = domain;
  }

  read(key: string): string | undefined {
    try {
      const value = this.preference.get(this.domain, key);
      return typeof value === 'string' ? value : undefined;
    } catch {
      return undefined;
    }
  }

  write(key: string, value: string): void {
    this.preference.set(this.domain, key, value);
  }

  remove(key: string): void {
    try {
      this.preference.delete(this.domain, key);
    } catch {
      // already absent
    }
  }
}
