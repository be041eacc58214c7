// Bundles a device app (TypeScript, importing the ECMA-419 / Moddable module
// specifiers) for Node: `embedded:io/socket/tcp`, `embedded:io/socket/listener` and
// `timer` become the simulator's implementations, and installSimPlatform() runs before
// any module of the app is evaluated.
//
//   import { bundleApp } from './hosts/sim/build.mjs';
//   await bundleApp('apps/echo.ts', '/tmp/echo.mjs');   // then: await import(url)

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The module specifiers the simulator provides, and the files that implement them. */
export const SIM_MODULES = Object.freeze({
  'embedded:io/socket/tcp': path.join(here, 'tcp.ts'),
  'embedded:io/socket/tcp/tls': path.join(here, 'tls.ts'),
  'embedded:io/socket/listener': path.join(here, 'listener.ts'),
  timer: path.join(here, 'timer.ts'),
});

const INSTALL = 'sim:install-platform';
const ENTRY = 'sim:entry';

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** esbuild plugin: the simulator's modules, and an entry that installs the platform first. */
export function simPlugin(entryPath) {
  const specifiers = Object.keys(SIM_MODULES);
  const filter = new RegExp(`^(?:${specifiers.map(escapeRegExp).join('|')})$`);
  return {
    name: 'moddable-sim',
    setup(build) {
      build.onResolve({ filter }, (args) => ({ path: SIM_MODULES[args.path] }));
      build.onResolve({ filter: /^sim:(?:install-platform|entry)$/ }, (args) => ({ path: args.path, namespace: 'sim' }));
      build.onLoad({ filter: /.*/, namespace: 'sim' }, (args) => {
        if (args.path === INSTALL) {
          return {
            contents: `import { installSimPlatform } from ${JSON.stringify(path.join(here, 'platform.ts'))};\ninstallSimPlatform();\n`,
            loader: 'ts',
            resolveDir: here,
          };
        }
        // ES modules evaluate their imports in order: the platform before the app.
        return {
          contents: `import ${JSON.stringify(INSTALL)};\nimport ${JSON.stringify(entryPath)};\n`,
          loader: 'js',
          resolveDir: path.dirname(entryPath),
        };
      });
    },
  };
}

/** Bundle `entryTsPath` into the ES module `outFile` (esm, node, es2022, inline source map). */
export async function bundleApp(entryTsPath, outFile) {
  const entryPath = path.resolve(entryTsPath);
  const result = await esbuild.build({
    entryPoints: [ENTRY],
    outfile: path.resolve(outFile),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'es2022',
    sourcemap: 'inline',
    logLevel: 'silent',
    plugins: [simPlugin(entryPath)],
  });
  return result;
}
