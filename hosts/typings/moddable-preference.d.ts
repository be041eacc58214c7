// Our declarations of Moddable's `preference` module (modules/files/preference), written
// from its documentation (documentation/files/files.md, "class Preference"): small values kept across
// restarts, by domain and key (ESP32 NVS: each at most 15 characters). get() of a
// missing key is undefined; set() and delete() throw when the store fails.

declare module 'preference' {
  export type PreferenceValue = string | number | boolean | ArrayBuffer;
  const Preference: {
    get(domain: string, key: string): PreferenceValue | undefined;
    set(domain: string, key: string, value: PreferenceValue): void;
    delete(domain: string, key: string): void;
    /** The keys stored under `domain`. */
    keys(domain: string): string[];
  };
  export default Preference;
}
