// The ESP32's radio for the LED device ('led-radio' in manifest.json): Moddable's Wi-Fi
// and mDNS (hosts/esp32/wifi-driver.ts, hosts/esp32/mdns-responder.ts).
import { Esp32WifiDriver } from './wifi-driver';
import { ModdableMdnsResponder } from './mdns-responder';
import type { WifiDriver } from 'websockets/device/wifi-setup';
import type { MdnsResponder } from 'websockets/device/mdns-announcer';

export const simulated = false;

export function createRadio(): { wifi: WifiDriver; mdns: MdnsResponder } {
  return { wifi: new Esp32WifiDriver(), mdns: new ModdableMdnsResponder() };
}
