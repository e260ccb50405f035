#!/usr/bin/env node
// The `portcullis` command. Portcullis is written in TypeScript that Node 24 runs directly (type
// stripping), so this launcher only makes sure such a Node runs src/cli/main.ts:
// - a Node that cannot (older than 24.7, or without type stripping) hands over to the project's
//   pinned Node (devDependency `node`, node_modules/node/bin/node) when it is installed, else
//   stops with one line naming Node 24;
// - Node will not strip types from files under node_modules (an installed package), so there a
//   module hook strips them for this package's own .ts files only.
// Kept to syntax every Node since 14 parses, so old versions reach the clear error message.
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { constants } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(realpathSync(fileURLToPath(import.meta.url))));
const args = process.argv.slice(2);

function canRunTypeScript() {
  const major = Number(process.versions.node.split('.')[0]);
  // node:crypto argon2 (passwords) arrived in 24.7; type stripping is on by default since 23.6.
  return major >= 24 && Boolean(process.features && process.features.typescript) && typeof crypto.argon2 === 'function';
}

function pinnedNode() {
  const candidates = [join(root, 'node_modules', 'node', 'bin', 'node'), join(root, 'node_modules', '.bin', 'node')];
  const self = realpathSync(process.execPath);
  for (const candidate of candidates) {
    if (!existsSync(candidate)) continue;
    const real = realpathSync(candidate);
    // Never hand over to ourselves: that Node already said it cannot.
    if (real !== self) return real;
  }
  return undefined;
}

function handOver(node) {
  const child = spawn(node, [join(root, 'bin', 'portcullis.js'), ...args], { stdio: 'inherit' });
  // Pass on termination requests (`start` stops cleanly on each, and ignores repeats).
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('error', (err) => {
    process.stderr.write(`portcullis: cannot run ${node}: ${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code !== null ? code : 128 + (constants.signals[signal] || 0)));
}

/** Strip types from this package's own .ts files when it lives under node_modules. */
function stripOwnTypeScript() {
  const own = pathToFileURL(join(root, 'src') + sep).href;
  const emitWarning = process.emitWarning;
  nodeModule.registerHooks({
    load(url, context, nextLoad) {
      if (!url.startsWith(own) || !url.endsWith('.ts')) return nextLoad(url, context);
      // stripTypeScriptTypes announces itself as experimental on every process: not news to the user.
      process.emitWarning = (warning, ...rest) => {
        if (String(warning).includes('stripTypeScriptTypes')) return;
        emitWarning.call(process, warning, ...rest);
      };
      try {
        const source = nodeModule.stripTypeScriptTypes(readFileSync(fileURLToPath(url), 'utf8'), { mode: 'strip' });
        return { format: 'module', source, shortCircuit: true };
      } finally {
        process.emitWarning = emitWarning;
      }
    },
  });
}

if (!canRunTypeScript()) {
  const node = pinnedNode();
  if (node) {
    handOver(node);
  } else {
    const major = Number(process.versions.node.split('.')[0]);
    const why =
      major >= 24 && typeof crypto.argon2 === 'function'
        ? `this Node ${process.versions.node} has type stripping turned off (--no-experimental-strip-types in NODE_OPTIONS?)`
        : `this is Node ${process.versions.node}`;
    process.stderr.write(
      `portcullis: needs Node.js 24 (24.7 or newer) with type stripping, which runs TypeScript directly; ${why}. ` +
        'Install Node 24 (https://nodejs.org), or run `npm install` in the project to get its pinned Node.\n',
    );
    process.exitCode = 1;
  }
} else {
  if (root.split(sep).includes('node_modules')) {
    if (typeof nodeModule.registerHooks !== 'function' || typeof nodeModule.stripTypeScriptTypes !== 'function') {
      process.stderr.write(`portcullis: this Node (${process.versions.node}) cannot run TypeScript from node_modules; use Node 24.7 or newer\n`);
      process.exit(1);
    }
    stripOwnTypeScript();
  }
  const { main } = await import(pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href);
  process.exitCode = await main(args);
}
