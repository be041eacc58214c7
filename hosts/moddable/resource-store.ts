// A StaticStore over resources built into a Moddable app (the manifest's "resources"):
// flash on the ESP32, the mapped app binary in the simulator. Bodies are served as
// `resource.slice(start, end, false)`: a read-only host buffer over the same bytes, so
// nothing is copied into the XS heap however large the file. ETags are computed once,
// here (FNV-1a over the bytes, read in place), when the store is built.
import Resource from 'Resource';
import { contentTypeFor, etagOf } from 'websockets/static-store';
import type { StaticEntry, StaticStore } from 'websockets/static-store';

type Body = ArrayBuffer | ArrayBufferView;

export class ResourceStore implements StaticStore {
  private readonly entries = new Map<string, StaticEntry>();

  /**
   * names: resource names as the manifest stores them ("index.html", "app.js"...), each
   * served at '/' + name; for each, a resource `name + ".gz"` (if built in) is served
   * instead to clients that accept gzip. A name with neither resource is skipped.
   * mcconfig leaves .js files listed as resources out (it takes them for modules), so the
   * plain bytes of "app.js" are looked up as "app.js.plain" too (scripts/build-web.mjs).
   */
  constructor(names: readonly string[]) {
    for (const name of names) {
      const contentType = contentTypeFor(name);
      const plain = Resource.exists(name) ? name : Resource.exists(name + '.plain') ? name + '.plain' : null;
      if (plain !== null) this.add('/' + name, plain, contentType, false);
      if (Resource.exists(name + '.gz')) this.add('/' + name + '.gz', name + '.gz', contentType, true);
    }
  }

  /** Paths served (for logging). */
  get paths(): string[] {
    return [...this.entries.keys()];
  }

  get(path: string): StaticEntry | null {
    return this.entries.get(path) ?? null;
  }

  private add(path: string, name: string, contentType: string, gzip: boolean): void {
    const resource = new Resource(name);
    // A read-only view of the resource's bytes, only to hash them (no copy).
    const etag = etagOf(new Uint8Array(resource as unknown as ArrayBuffer));
    const entry: StaticEntry = {
      size: resource.byteLength,
      contentType,
      etag,
      body: (start, end) => resource.slice(start, end, false) as unknown as Body,
    };
    if (gzip) entry.encoding = 'gzip';
    this.entries.set(path, entry);
  }
}
