/** `portcullis start`: run the server in the foreground and print where everything is. */
import { loadConfig } from '../core/config.ts';
import { createLogger } from '../core/log.ts';
import { startPortcullis } from '../server/app.ts';

export async function start(): Promise<void> {
  const began = performance.now();
  const config = loadConfig();
  const log = createLogger(config.logLevel, process.stderr);
  const running = await startPortcullis(config, { log });
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

  const stop = async (signal: string) => {
    log.info({ signal }, 'shutting down');
    await running.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}
