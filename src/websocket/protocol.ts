// RFC 6455 constants and the small predicates every other module shares.

export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** Close codes used by this stack (RFC 6455 section 7.4.1). */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  /** Never sent on the wire: "no status code was present". */
  NoStatus: 1005,
  /** Never sent on the wire: "the connection was closed abnormally". */
  Abnormal: 1006,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  MandatoryExtension: 1010,
  InternalError: 1011,
  /** Never sent on the wire: "the TLS handshake failed" (wss://: certificate refused, alert, timeout). */
  TlsHandshake: 1015,
} as const;

/** Data messages are text or binary; continuations inherit the type of the first frame. */
export type MessageType = 'text' | 'binary';

/**
 * Close codes that may appear in a close frame, sent or received. Strict by design (as the
 * Autobahn testsuite): 1000-1003 and 1007-1011 from RFC 6455, 3000-4999 for libraries and
 * applications. 1005/1006/1015 are local-only and never on the wire.
 */
export function isValidWireCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1003) ||
    (code >= 1007 && code <= 1011) ||
    (code >= 3000 && code <= 4999)
  );
}

export const MAX_CONTROL_PAYLOAD = 125;
/** Largest header: 2 bytes + 8-byte length + 4-byte mask key. */
export const MAX_HEADER_SIZE = 14;
