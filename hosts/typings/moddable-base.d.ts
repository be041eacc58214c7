// Our declarations of the few Moddable base modules the hosts use, written from
// Moddable's public documentation (documentation/base/base.md, network/network.md).

declare module 'time' {
  const Time: {
    /** Milliseconds from an arbitrary start: monotonic, for measuring intervals. */
    readonly ticks: number;
  };
  export default Time;
}

declare module 'net' {
  const Net: {
    /** DNS look-up; `address` is a dotted IPv4 string, or undefined when it failed. Throws when the resolver queue is full. */
    resolve(host: string, callback: (name: string, address: string | undefined) => void): void;
  };
  export default Net;
}

declare function trace(...text: unknown[]): void;
