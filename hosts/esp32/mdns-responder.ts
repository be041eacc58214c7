// The ESP32's MdnsResponder (src/device/mdns-announcer.ts) over Moddable's `mdns`
// module. What it relies on (modules/network/mdns/mdns.js):
// - The callback gets (1, '') when probing starts, (1, name) once claimed, (2, name) on a
//   conflict (returning nothing lets the SDK probe "<name>-2", "-3"...; true gives up)
//   and then (-1) after giving up.
// - The probe announces Net.get("IP"), which is undefined until the station has an
//   address and while station and access point run together; the probe would throw in
//   its timer then. So probing starts only once Net.get("IP") answers (checked every
//   second).
// - add() throws while probing: the HTTP service is added once the name is claimed.
// - The SDK's typings do not declare close() (it is the UDP socket's), hence the cast.
import MDNS from 'mdns';
import Net from 'net';
import Timer from 'timer';
import type { MdnsListener, MdnsResponder } from 'websockets/device/mdns-announcer';
import { errorText } from 'websockets/device/error-text';

type TimerId = ReturnType<typeof Timer.set>;

const CLAIMED = 1;
const CONFLICT = 2;
const GAVE_UP = -1;
/** ms between checks for an address to announce. */
const ADDRESS_POLL_MS = 1000;


export class ModdableMdnsResponder implements MdnsResponder {
  private mdns: MDNS | null = null;
  private wait: TimerId | null = null;
  private claimed = false;
  private port = 0;
  private advertised = false;

  start(hostName: string, listener: MdnsListener): void {
    this.stop();
    if (Net.get('IP')) {
      this.open(hostName, listener);
      return;
    }
    this.wait = Timer.repeat(() => {
      try {
        if (!Net.get('IP')) return;
        this.clearWait();
        this.open(hostName, listener);
      } catch (error) {
        this.clearWait();
        listener.failed(`cannot start mDNS: ${errorText(error)}`);
      }
    }, ADDRESS_POLL_MS);
  }

  advertiseHttp(port: number): void {
    this.port = port;
    if (this.claimed) this.addService();
  }

  stop(): void {
    this.clearWait();
    const mdns = this.mdns;
    this.mdns = null;
    this.claimed = false;
    this.advertised = false;
    this.port = 0;
    if (mdns) (mdns as unknown as { close(): void }).close(); // goodbyes for the service, then the socket closes
  }

  private open(hostName: string, listener: MdnsListener): void {
    const mdns: MDNS = new MDNS({ hostName }, (kind: number, value?: string) => {
      try {
        if (mdns !== this.mdns) return undefined; // a stopped responder's late report
        if (kind === CLAIMED && value) {
          this.claimed = true;
          if (this.port) this.addService();
          listener.claimed(value);
        } else if (kind === CONFLICT) {
          return listener.conflict(value ?? hostName) ? true : undefined;
        } else if (kind === GAVE_UP) {
          listener.failed(`${hostName}.local and the names after it are taken`);
        }
      } catch (error) {
        trace(`mdns: ${errorText(error)}\n`);
      }
      return undefined;
    });
    this.mdns = mdns;
  }

  private addService(): void {
    if (this.advertised || !this.mdns) return;
    this.mdns.add({ name: 'http', protocol: 'tcp', port: this.port, txt: { path: '/' } });
    this.advertised = true;
  }

  private clearWait(): void {
    if (this.wait) Timer.clear(this.wait);
    this.wait = null;
  }
}
