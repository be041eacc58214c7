// Randomness for mask keys and handshake nonces is injected: a host supplies its
// hardware or OS generator; tests supply a deterministic one.

/** Fills `out` with random bytes. */
export type RandomSource = (out: Uint8Array) => void;

/**
 * Fallback when a host supplies nothing: Math.random. RFC 6455 asks for unpredictable
 * mask keys; hosts/esp32 and hosts/sim install stronger sources.
 */
export const mathRandom: RandomSource = (out) => {
  for (let i = 0; i < out.length; i++) out[i] = (Math.random() * 256) & 0xff;
};
