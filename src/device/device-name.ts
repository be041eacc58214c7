// The device's name on the network: a DNS label (lowercase a-z, 0-9 and '-', 1..63
// characters, not starting or ending with '-'), announced as <name>.local over mDNS and
// used for the set-up access point's SSID. Without a configured name, the name comes
// from the MAC address, so two devices on one network get different names out of the box.
// No RegExp: Moddable preloads this module and a preloaded RegExp is unsafe in XS.

/** What every default name starts with. */
export const DEVICE_NAME_PREFIX = 'atom-led';

/** The longest DNS label. */
export const MAX_DEVICE_NAME = 63;

/** The longest SSID in bytes (802.11). */
export const MAX_SSID_BYTES = 32;

const SETUP_SUFFIX = '-setup';
const HEX_DIGITS = '0123456789abcdef';

function isLabelCharacter(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39) || code === 0x2d; // a-z 0-9 -
}

/** True when `text` is a valid device name (a lowercase DNS label). */
export function isDeviceName(text: unknown): text is string {
  if (typeof text !== 'string') return false;
  const n = text.length;
  if (n < 1 || n > MAX_DEVICE_NAME) return false;
  if (text.charCodeAt(0) === 0x2d || text.charCodeAt(n - 1) === 0x2d) return false;
  for (let i = 0; i < n; i++) if (!isLabelCharacter(text.charCodeAt(i))) return false;
  return true;
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x66) return code - 0x61 + 10;
  if (code >= 0x41 && code <= 0x46) return code - 0x41 + 10;
  return -1;
}

/**
 * The six bytes of a MAC address written as six pairs of hex digits separated by ':'
 * or '-' (one separator throughout; either case), or null.
 */
export function parseMac(mac: string): number[] | null {
  if (typeof mac !== 'string' || mac.length !== 17) return null;
  const separator = mac.charCodeAt(2);
  if (separator !== 0x3a && separator !== 0x2d) return null; // ':' or '-'
  const bytes: number[] = [];
  for (let i = 0; i < 6; i++) {
    const at = i * 3;
    if (i > 0 && mac.charCodeAt(at - 1) !== separator) return null;
    const high = hexValue(mac.charCodeAt(at));
    const low = hexValue(mac.charCodeAt(at + 1));
    if (high < 0 || low < 0) return null;
    bytes.push((high << 4) | low);
  }
  return bytes;
}

/**
 * `atom-led-` and the MAC's last two bytes as four lowercase hex digits
 * ("30:ae:a4:1a:2b:3c" -> "atom-led-2b3c"); "atom-led" when the MAC is not one.
 */
export function defaultDeviceName(mac: string): string {
  const bytes = parseMac(mac);
  if (!bytes) return DEVICE_NAME_PREFIX;
  let suffix = '';
  for (let i = 4; i < 6; i++) suffix += HEX_DIGITS[bytes[i] >> 4] + HEX_DIGITS[bytes[i] & 15];
  return DEVICE_NAME_PREFIX + '-' + suffix;
}

/** The page's address by name: "http://<name>.local/", with ":<port>" unless the port is 80. */
export function deviceUrl(name: string, port = 80): string {
  return port === 80 ? `http://${name}.local/` : `http://${name}.local:${port}/`;
}

/** Bytes of one code point in UTF-8. */
function utf8Size(code: number): number {
  return code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
}

/**
 * The set-up access point's SSID: "<name>-setup", the name cut (and any '-' left at the
 * cut dropped) so that the whole fits the 32 bytes an SSID may have.
 */
export function setupSsid(name: string): string {
  const room = MAX_SSID_BYTES - SETUP_SUFFIX.length;
  let kept = '';
  let bytes = 0;
  for (const ch of name) {
    bytes += utf8Size(ch.codePointAt(0) as number);
    if (bytes > room) break;
    kept += ch;
  }
  let end = kept.length;
  while (end > 0 && kept.charCodeAt(end - 1) === 0x2d) end--;
  kept = kept.slice(0, end);
  return (kept || DEVICE_NAME_PREFIX) + SETUP_SUFFIX;
}
