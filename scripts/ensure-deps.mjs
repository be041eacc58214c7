// Run before npm test (and npm start): installs what the project needs on a fresh
// machine, so one command does all set-up. npm packages exactly as locked (XS is
// built from source by @agoric/xsnap); for the tests, Debian's chromium (driven by
// playwright-core), python3-websockets (a real peer, run as /usr/bin/python3) and openssl
// (the wss:// suites make their certificates with it: scripts/tls-certs.mjs).
import { execSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const forTests = process.argv.includes('--tests');

const lock = join(root, 'package-lock.json');
const installed = join(root, 'node_modules', '.package-lock.json');
if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
  console.log('set-up: npm ci');
  execSync('npm ci --no-audit --no-fund', { cwd: root, stdio: 'inherit' });
}

if (forTests) {
  const missing = [];
  if (!existsSync('/usr/bin/chromium')) missing.push('chromium');
  const py = spawnSync('/usr/bin/python3', ['-c', 'import websockets'], { stdio: 'ignore' });
  if (py.status !== 0) missing.push('python3-websockets');
  if (spawnSync('openssl', ['version'], { stdio: 'ignore' }).status !== 0) missing.push('openssl');
  if (missing.length) {
    const root = typeof process.getuid === 'function' && process.getuid() === 0;
    const sudo = root ? '' : 'sudo ';
    console.log(`set-up: apt-get install ${missing.join(' ')}`);
    execSync(`${sudo}apt-get update -qq && DEBIAN_FRONTEND=noninteractive ${sudo}apt-get install -y -qq ${missing.join(' ')}`, {
      stdio: 'inherit',
      shell: '/bin/bash',
    });
  }
}
