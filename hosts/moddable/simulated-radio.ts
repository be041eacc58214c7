// The radio of the LED device in Moddable's simulator ('led-radio' in manifest.json on
// lin, mac and win): the simulated Wi-Fi and mDNS of src/device/simulated-wifi.ts, as on
// the Node sim host, so the set-up page and its state machine run the same way.
import { SimulatedMdns, SimulatedWifi } from 'websockets/device/simulated-wifi';
import type { WifiDriver } from 'websockets/device/wifi-setup';
import type { MdnsResponder } from 'websockets/device/mdns-announcer';

export const simulated = true;

export function createRadio(): { wifi: WifiDriver; mdns: MdnsResponder } {
  return { wifi: new SimulatedWifi(), mdns: new SimulatedMdns() };
}
