// Our declarations of Moddable's `mdns` module (modules/network/mdns) as
// hosts/esp32/mdns-responder.ts uses it, written from the module's public source, its
// documentation (documentation/network/network.md, "class MDNS") and examples
// (examples/network/mdns). Facts the responder relies on:
// - new MDNS({hostName}, callback) probes the name at once (three probes 250 ms apart);
//   the callback is called with (1, '') when probing starts and (1, name) once the name
//   is claimed; on a conflict with (2, name), and what it returns decides: nothing ->
//   the SDK probes its next name itself ("<name>-2", then "-3", ...), a string -> that
//   name, anything else truthy -> give up, and then (-1) follows.
// - Probing announces the address of Net.get("IP") (the active interface): it must have
//   one (not station and access point at once, where there is no single active one).
// - add(service) throws "not ready" while probing; close() sends goodbyes and stops.
// Under mcconfig the SDK's own typings apply instead (which do not declare close()).

declare module 'mdns' {
  export interface MDNSService {
    /** "http" for _http._tcp. */
    name: string;
    /** "tcp" or "udp". */
    protocol: string;
    port: number;
    txt: Record<string, string>;
  }

  export default class MDNS {
    constructor(options: { hostName?: string }, callback?: (message: number, value?: string) => unknown);
    add(service: MDNSService): void;
    update(service: MDNSService): void;
    remove(service: MDNSService): void;
    close(): void;

    static readonly hostName: 1;
    static readonly retry: 2;
    static readonly error: -1;
  }
}
