/** `portcullis start`: run the server in the foreground and print where everything is. */
import { loadConfig } from '../core/config.ts';
import { createLogger } from '../core/log.ts';
import { CONFIG_HELP, parseCommand } from './args.ts';
import type { CliIo } from './context.ts';

const spec = {
  name: 'start',
  help: `Usage: portcullis start

Runs Portcullis in the foreground: the authorization server, the built-in demo MCP server it
protects, and the pages. Prints the MCP server URL to add to a client, and on first start a
one-time link to create the administrator account. Stops cleanly on SIGINT / SIGTERM.
Configuration: see \`portcullis config check --help\`. Logs go to stderr as JSON.

Options:
${CONFIG_HELP}
  -h, --help          show this help`,
  options: {},
} as const;

export async function start(options: { file?: string } = {}): Promise<void> {
  const began = performance.now();
  const config = loadConfig({ file: options.file });
  const log = createLogger(config.logLevel, process.stderr);
  // Loaded here, not at the top: the other commands should not pay for the whole server.
  const { startPortcullis } = await import('../server/app.ts');
  const running = await startPortcullis(config, { log });
  // Installed before the banner is printed, so whoever waits for the banner can stop us at once.
  // A signal may arrive twice (from the terminal's process group, and forwarded by
  // bin/portcullis.js): the first one closes, repeats are ignored instead of killing the close.
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    await running.close();
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(signal));

  const lines = [
    '',
    `Portcullis is running (${Math.round(performance.now() - began)} ms, ${running.store.dialect})`,
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
  process.stdout.write(`${lines.join('\n')}\n`);
}

export async function startCommand(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommand(spec, argv, io.stdout);
  if (!args) return 0;
  await start({ file: args.values.config });
  return 0;
}
