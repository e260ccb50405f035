/** `portcullis start`: run the server in the foreground and print where everything is. */
import cluster from 'node:cluster';
import { loadConfig } from '../core/config.ts';
import { createLogger } from '../core/log.ts';
import { CONFIG_HELP, parseCommand, usageError } from './args.ts';
import type { CliIo } from './context.ts';
import { WORKER_SLOT, type WorkerReady } from './workers.ts';

const spec = {
  name: 'start',
  help: `Usage: portcullis start [--workers N]

Runs Portcullis in the foreground: the authorization server, the built-in demo MCP server it
protects, and the pages. Prints the MCP server URL to add to a client, and on first start a
one-time link to create the administrator account. Stops cleanly on SIGINT / SIGTERM.
Configuration: see \`portcullis config check --help\`. Logs go to stderr as JSON.

Options:
${CONFIG_HELP}
  -w, --workers N     run N processes sharing the port and the store (node:cluster; default 1).
                      A worker that dies is restarted; changes reach every worker at once
                      (PostgreSQL LISTEN/NOTIFY, Redis pub/sub, or through this process on SQLite)
  -h, --help          show this help`,
  options: { workers: { type: 'string', short: 'w' } },
} as const;

const MAX_WORKERS = 64;

function workerCount(value: string | undefined): number {
  if (value === undefined) return 1;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_WORKERS) throw usageError(`--workers must be a whole number from 1 to ${MAX_WORKERS}`, 'start');
  return n;
}

/** stdout, unless it carries the audit records as JSON lines (`audit.stdout`): then stderr, beside the logs. */
function bannerOut(config: { audit: { stdout: boolean } }): NodeJS.WritableStream {
  return config.audit.stdout ? process.stderr : process.stdout;
}

export async function start(options: { file?: string; workers?: number } = {}): Promise<void> {
  const began = performance.now();
  const config = loadConfig({ file: options.file });
  const log = createLogger(config.logLevel, process.stderr);
  if ((options.workers ?? 1) > 1 && cluster.isPrimary) {
    const { runPrimary } = await import('./workers.ts');
    return runPrimary(options.workers!, log, bannerOut(config));
  }
  // A worker of `--workers`: slot 1 makes the first-run link and sweeps expired rows; the primary prints.
  const slot = cluster.isWorker ? Number(process.env[WORKER_SLOT] ?? '1') : undefined;
  // Loaded here, not at the top: the other commands should not pay for the whole server.
  const { startPortcullis } = await import('../server/app.ts');
  const running = await startPortcullis(config, { log, quiet: slot !== undefined && slot !== 1, housekeeping: slot === undefined || slot === 1 });
  // Installed before the banner is printed, so whoever waits for the banner can stop us at once.
  // A signal may arrive twice (from the terminal's process group, and forwarded by
  // bin/portcullis.js or the cluster's primary): the first one closes, repeats are ignored instead
  // of killing the close.
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    await running.close();
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(signal));

  const workers = cluster.isWorker ? `, ${options.workers} workers` : '';
  const lines = [
    '',
    `Portcullis is running (${Math.round(performance.now() - began)} ms, ${running.store.dialect}${workers})`,
    '',
    `  MCP server (demo)   ${running.mcpUrl}`,
    '                      ↳ add this URL to your MCP client (Claude, VS Code, Cursor, ChatGPT…)',
    `  Issuer              ${running.url}`,
    `  Console             ${running.url}/`,
  ];
  if (running.setupLink) {
    lines.push('', '  First run — create the administrator account (the link works once, for 24 hours):', `  ${running.setupLink}`);
  }
  lines.push('');
  const banner = `${lines.join('\n')}\n`;
  if (!cluster.isWorker) bannerOut(config).write(banner);
  else process.send?.({ portcullisWorkerReady: { slot: slot!, banner: slot === 1 ? banner : undefined } } satisfies WorkerReady);
}

export async function startCommand(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommand(spec, argv, io.stdout);
  if (!args) return 0;
  await start({ file: args.values.config, workers: workerCount(args.values.workers) });
  return 0;
}
