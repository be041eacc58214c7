// A StaticStore over resources built into a Moddable app (the manifest's "resources"):
// flash on the ESP32, the mapped app binary in the simulator. Bodies are served as
// `resource.slice(start, end, false)`: a read-only host buffer over the same bytes, so
// nothing is copied into the XS heap however large the file. ETags are computed once,
// here (FNV-1a over the bytes, read in place), when the store is built.
import Resource from 'Resource';
import { contentTypeFor, etagOf } from 'websockets/static-store';
import type { StaticEntry, StaticStore } from 'websockets/static-store';

type Body = ArrayBuffer | ArrayBufferView;
/** A resource instance (the SDK's typings declare Resource as a constructor value, not a class). */
type ResourceBytes = InstanceType<typeof Resource>;

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
    this.entries.set(path, new ResourceEntry(new Resource(name), contentType, gzip));
  }
}

/**
 * One file. A class, so that body() is one shared prototype method rather than a closure
 * per file: ~10 XS slots less for each of the LED app's ten entries (docs/MEMORY.md).
 */
class ResourceEntry implements StaticEntry {
  readonly size: number;
  readonly contentType: string;
  readonly etag: string;
  declare readonly encoding?: 'gzip';
  private readonly resource: ResourceBytes;

  constructor(resource: ResourceBytes, contentType: string, gzip: boolean) {
    this.resource = resource;
    this.size = resource.byteLength;
    this.contentType = contentType;
    // A read-only view of the resource's bytes, only to hash them (no copy).
    this.etag = etagOf(new Uint8Array(resource as unknown as ArrayBuffer));
    if (gzip) this.encoding = 'gzip';
  }

  body(start: number, end: number): Body {
    return this.resource.slice(start, end, false) as unknown as Body;
  }
}
