#!/usr/bin/env node
// Runs a device app on the Node simulator:
//
//   node hosts/sim/run.mjs path/to/app.ts [args...]
//
// The app is bundled (hosts/sim/build.mjs) into a temporary directory and imported;
// it sees process.argv = [node, path/to/app.ts, ...args]. The temporary bundle is
// removed once the import settles (the app keeps running on its sockets and timers).

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleApp } from './build.mjs';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node hosts/sim/run.mjs path/to/app.ts [args...]');
  process.exit(2);
}

const entryPath = path.resolve(entry);
const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'moddable-sim-'));
const outFile = path.join(dir, `${path.basename(entryPath).replace(/\.[cm]?[jt]sx?$/, '')}.mjs`);
try {
  try {
    await bundleApp(entryPath, outFile);
  } catch (error) {
    const messages = error?.errors?.map((e) => `${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`);
    console.error(`sim: cannot bundle ${entry}\n${messages?.join('\n') ?? error?.message ?? error}`);
    process.exitCode = 1;
  }
  if (!process.exitCode) {
    process.setSourceMapsEnabled?.(true);
    process.argv = [process.argv[0], entryPath, ...args];
    await import(pathToFileURL(outFile).href);
  }
} finally {
  await fs.rm(dir, { recursive: true, force: true });
}
