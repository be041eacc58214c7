// Runs inside XS (bundled by bench/parser.mjs): parses every bench input with our
// parser and reports computrons per input, measured with xsnap's resetMeter().
import { makeInputs } from './inputs';
import { parseWithOurs } from './ours';

declare const resetMeter: (limit: number, index: number) => number;
declare const issueCommand: (message: ArrayBuffer) => ArrayBuffer;
declare const BENCH: { totalBytes: number; readSize: number; rounds: number; only: number };

function send(text: string): void {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0x7f;
  issueCommand(bytes.buffer);
}

const inputs = makeInputs(BENCH.totalBytes, BENCH.readSize);
const receiveBuffer = new Uint8Array(BENCH.readSize);
inputs.forEach((input, index) => {
  if (BENCH.only >= 0 && index !== BENCH.only) return;
  parseWithOurs(input, 1, receiveBuffer); // warm: first-run costs (property caches) out of the figure
  resetMeter(0, 0);
  const count = parseWithOurs(input, BENCH.rounds, receiveBuffer);
  const computrons = resetMeter(0, 0);
  send(JSON.stringify({ name: input.name, bytes: input.bytes * BENCH.rounds, messages: count.messages, errors: count.errors, computrons }));
});
