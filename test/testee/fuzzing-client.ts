// npm run testee:client -- --url ws://127.0.0.1:P --agent NAME [--max-message BYTES]
//   [--case-timeout MS] [--deadline MS] [--moddable]
// npm run testee:client -- --url wss://HOST:P [--ca FILE] ...
// Speaks the Autobahn fuzzingserver protocol with our WebSocketClient on the sim host
// (test/testee/fuzzing.ts); with --moddable, scripts/testee.mjs runs the same logic in
// the Moddable simulator instead (ws:// only). Exit status: 0 when every case ran to its
// close and the reports were updated; 1 otherwise (one sentence on stderr says why); 2
// for bad options.
//
// A wss:// URL runs every step over TLS: the client gets the host's TLS socket
// (`embedded:io/socket/tcp/tls`, which hosts/sim/build.mjs maps to hosts/sim/tls.ts, the
// socket an app uses) and, with --ca FILE, the CA certificates of that PEM file as the
// only ones it trusts; without --ca it trusts what the host trusts (Node's CA list). A
// certificate the client refuses ends the run at /getCaseCount with exit 1 and the TLS
// reason ("cannot reach the fuzzing server at wss://...: TLS handshake failed: ...").
import { readFileSync } from 'node:fs';
import TLS from 'embedded:io/socket/tcp/tls';
import { WebSocketClient } from '../../src/net/client';
import type { TlsClientOptions } from '../../src/net/tls';
import { pemBlocks } from '../../src/bytes/pem';
import { DEFAULT_CASE_TIMEOUT, DEFAULT_DEADLINE, checkMilliseconds, runFuzzingClient } from './fuzzing';

function arg(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? (process.argv[at + 1] ?? '') : undefined;
}

function usage(line: string): never {
  console.error(line);
  process.exit(2);
}

const caseTimeout = arg('--case-timeout') ?? String(DEFAULT_CASE_TIMEOUT);
const deadline = arg('--deadline') ?? String(DEFAULT_DEADLINE);
const bad = checkMilliseconds('--case-timeout', caseTimeout) || checkMilliseconds('--deadline', deadline);
if (bad) usage(bad);

const url = arg('--url') ?? 'ws://127.0.0.1:9001';
const secure = /^wss:\/\//i.test(url);

/**
 * The TLS options for a wss:// URL, from --ca: checked here, before any connection, so
 * that a wrong file is a bad option (exit 2) rather than a server the run cannot reach.
 */
function tlsOptions(): TlsClientOptions | undefined {
  const caFile = arg('--ca');
  if (!secure) {
    if (caFile !== undefined) usage(`--ca ${caFile}: only for a wss:// URL (the URL is ${url})`);
    return undefined;
  }
  if (caFile === undefined) return { socket: TLS }; // the host's own trust
  if (caFile === '') usage('--ca FILE: the PEM file of the CA certificates to trust');
  let pem: string;
  try {
    pem = readFileSync(caFile, 'utf8');
  } catch (error) {
    usage(`--ca ${caFile}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let count = 0;
  try {
    count = pemBlocks(pem, 'CERTIFICATE').length;
  } catch (error) {
    usage(`--ca ${caFile}: ${(error as Error).message}`);
  }
  if (count === 0) usage(`--ca ${caFile}: no "-----BEGIN CERTIFICATE-----" block (a PEM file of CA certificates is expected)`);
  return { socket: TLS, ca: pem };
}

const tls = tlsOptions();

runFuzzingClient({
  url,
  // The shared logic sets the buffers and timeouts; only the TLS socket comes from here.
  createClient: (options) => new WebSocketClient(tls ? { ...options, tls } : options),
  agent: arg('--agent') ?? 'moddable-websockets',
  maxMessage: Number(arg('--max-message') ?? 64 * 1024 * 1024),
  caseTimeout: Number(caseTimeout),
  deadline: Number(deadline),
  log: (line) => console.log(line),
  error: (line) => console.error(line),
}).then(
  (status) => process.exit(status),
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
