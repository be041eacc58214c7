// npm run typecheck:moddable — type-checks every Moddable host file and the modules the
// Moddable builds compile against the SDK's OWN typings ($MODDABLE/typings and
// $MODDABLE/xs/includes), exactly as mcconfig's builds would, without building:
// `mcconfig -d -p <platform> -o <temp dir>` (no -m) writes each build's tsconfig-base.json
// (the SDK's compiler options, "types" and a "paths" entry for every module specifier of
// that build, the SDK's typings included) and one <module>-tsconfig.json per TypeScript
// module; we run one tsc --noEmit per build over all of its modules. Builds checked:
//   manifest.json for this computer's simulator (lin/mac/win) and for esp32/m5atom_lite
//   (no ESP-IDF needed: only the makefile is written), examples/wss-client for
//   esp32/m5atom_lite (TLS on the device), and every app manifest under hosts/moddable/*/
//   for the simulator.
// A .ts file under hosts/moddable, hosts/esp32 or src that no build compiles is checked
// with the simulator build of manifest.json. Output goes to a temporary directory that
// is removed afterwards. Without $MODDABLE it says so and exits 0 (CI has no SDK; there
// `npm run typecheck` checks the same files against our own typings in hosts/typings).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { DEVICE, findSdkOrSkip, mcconfig, root } from './moddable.mjs';
import { testPki } from './tls-certs.mjs';

const tag = 'typecheck:moddable';
const sdk = findSdkOrSkip(tag); // prints "SKIPPED" without $MODDABLE
if (!sdk) process.exit(0);

const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc'); // findSdk checked it is there

function walk(dir, keep, out = []) {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') walk(path, keep, out);
    } else if (keep(entry.name)) out.push(path);
  }
  return out;
}

const sim = sdk.host;
// Manifests that take a CA certificate resource by path ($(WSS_CA): the wss:// example and probes) get
// a throwaway one: only the build's files matter here.
const buildEnv = { ...sdk.env, WSS_CA: testPki().files.ca };
const builds = [
  { manifestDir: root, platform: sim },
  { manifestDir: root, platform: DEVICE },
  // wss:// on the device: our TLS socket and the SDK's TLS, as the example includes them.
  { manifestDir: join(root, 'examples', 'wss-client'), platform: DEVICE },
  ...readdirSync(join(root, 'hosts', 'moddable'), { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(root, 'hosts', 'moddable', e.name, 'manifest.json')))
    .map((e) => ({ manifestDir: join(root, 'hosts', 'moddable', e.name), platform: sim })),
];

const out = mkdtempSync(join(tmpdir(), 'typecheck-moddable-'));
let failed = 0;
try {
  const checked = new Set();
  for (const build of builds) {
    const { tmp } = mcconfig(sdk, { manifestDir: build.manifestDir, platform: build.platform, outputDir: out, quiet: true, env: buildEnv });
    build.modules = join(tmp, 'modules');
    build.files = walk(build.modules, (name) => name.endsWith('-tsconfig.json')).flatMap(
      (path) => JSON.parse(readFileSync(path, 'utf8')).files ?? [],
    );
    for (const file of build.files) checked.add(file);
  }

  const ours = [join(root, 'hosts', 'moddable'), join(root, 'hosts', 'esp32'), join(root, 'src')].flatMap((dir) =>
    walk(dir, (name) => name.endsWith('.ts') && !name.endsWith('.d.ts')),
  );
  const extra = ours.filter((file) => !checked.has(file));
  builds[0].files.push(...extra);

  for (const build of builds) {
    const config = join(build.modules, 'typecheck.json');
    writeFileSync(
      config,
      JSON.stringify({ extends: './tsconfig-base.json', compilerOptions: { noEmit: true }, files: build.files }, null, 2),
    );
    const name = `${relative(root, join(build.manifestDir, 'manifest.json'))} for ${build.platform}`;
    const result = spawnSync(process.execPath, [tsc, '-p', config], { encoding: 'utf8', cwd: root });
    if (result.status === 0) {
      console.log(`${tag}: ${name}: ${build.files.length} files OK`);
    } else {
      failed++;
      console.log(`${tag}: ${name}: FAILED`);
      process.stdout.write(result.stdout + result.stderr);
    }
  }
  if (extra.length) {
    console.log(`${tag}: in no Moddable build, checked with ${relative(root, join(root, 'manifest.json'))} for ${sim}: ${extra.map((f) => relative(root, f)).join(' ')}`);
  }
  console.log(`${tag}: against ${join(sdk.moddable, 'typings')} and ${join(sdk.moddable, 'xs', 'includes')}: ${failed ? `${failed} build(s) failed` : 'all passed'}`);
} catch (error) {
  console.error(`${tag}: ${error.message}`);
  failed++;
} finally {
  rmSync(out, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
