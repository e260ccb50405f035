/**
 * The `portcullis` command: finds the subcommand named by the first words of the command line
 * (`clients add`, `keys rotate`…) and runs it. Every failure ends as one line on stderr — never a
 * stack trace — and an exit code: 0 done, 1 could not be done, 2 the command line is wrong.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isPortcullisError, type FieldError } from '../core/errors.ts';
import { describeError, USAGE, usageError } from './args.ts';
import type { CliIo, CommandRun } from './context.ts';

interface Command {
  /** The command words, e.g. `clients add`. */
  name: string;
  summary: string;
  /** Imported only when the command runs, so `--help` and usage errors answer at once. */
  load(): Promise<CommandRun>;
}

export const COMMANDS: Command[] = [
  { name: 'start', summary: 'run the server (authorization server, guard, demo MCP server)', load: async () => (await import('./start.ts')).startCommand },
  { name: 'migrate', summary: 'apply database migrations (SQLite in dataDir, or PostgreSQL via DATABASE_URL)', load: async () => (await import('./migrate.ts')).migrate },
  { name: 'config check', summary: 'validate the configuration and print it, secrets masked, with warnings', load: async () => (await import('./config-check.ts')).configCheck },
  { name: 'admin create-user', summary: 'create a user with a password (Argon2id)', load: async () => (await import('./admin.ts')).createUser },
  { name: 'admin reset-mfa', summary: "remove a person's second factors (TOTP, recovery codes, passkeys) and end their sessions", load: async () => (await import('./reset-mfa.ts')).resetMfa },
  { name: 'clients add', summary: "pre-register an OAuth client (a confidential client's secret is shown once)", load: async () => (await import('./clients.ts')).addClient },
  { name: 'clients list', summary: 'list registered clients (never their secrets)', load: async () => (await import('./clients.ts')).listClients },
  { name: 'clients remove', summary: 'remove a client', load: async () => (await import('./clients.ts')).removeClient },
  { name: 'keys rotate', summary: 'add a new token-signing key and retire the current one', load: async () => (await import('./keys.ts')).rotateKeys },
  { name: 'keys list', summary: 'list token-signing keys (public information only)', load: async () => (await import('./keys.ts')).listKeys },
  { name: 'keys retire', summary: 'stop publishing a retired token-signing key now (tokens it signed stop verifying)', load: async () => (await import('./keys.ts')).retireKey },
  { name: 'audit verify', summary: 'verify the audit hash chains in the store (--org), or an exported file offline (--file)', load: async () => (await import('./audit.ts')).auditVerify },
  { name: 'audit export', summary: "stream an organization's audit records as JSON lines or CSV (--org, --since, --until, --out)", load: async () => (await import('./audit.ts')).auditExport },
  { name: 'apps list', summary: 'list protected applications with their status', load: async () => (await import('./apps.ts')).listApps },
  { name: 'apps show', summary: 'show one application: URL, upstream, scopes, status, last self-test', load: async () => (await import('./apps.ts')).showApp },
  { name: 'apps tools', summary: "list an application's tools: review status, scope, first/last seen", load: async () => (await import('./apps.ts')).listTools },
  { name: 'apps approve', summary: 'approve tools waiting for review', load: async () => (await import('./apps.ts')).approveTools },
  { name: 'apps reject', summary: 'send a tool back to review (hidden and not callable)', load: async () => (await import('./apps.ts')).rejectTool },
  { name: 'apps move', summary: 'give an application to an organization (--org ORG), or back to the server (--server)', load: async () => (await import('./apps.ts')).moveApp },
  { name: 'apps test', summary: "self-test an application at the running server's public URL", load: async () => (await import('./apps.ts')).testApp },
  { name: 'connect', summary: 'a local stdio MCP server that forwards to <mcp-url> and signs in with a code (auth_login tools)', load: async () => (await import('./connect.ts')).connect },
  { name: 'login', summary: 'sign in to an MCP server with a code shown in the browser (device flow)', load: async () => (await import('./login.ts')).login },
  { name: 'logout', summary: 'sign out: revoke the tokens and remove them from ~/.portcullis/auth.json', load: async () => (await import('./login.ts')).logout },
  { name: 'whoami', summary: 'who is signed in: user, organization, server, token expiry', load: async () => (await import('./login.ts')).whoami },
];

function version(): string {
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

function overview(commands: Command[], heading = 'Usage: portcullis <command> [options]'): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    heading,
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `portcullis <command> --help` for the options of each command.',
    'Configuration comes from portcullis.config.json (or PORTCULLIS_CONFIG) and PORTCULLIS_* variables.',
    '',
  ].join('\n');
}

/** Run the CLI with these arguments; resolves with the exit code. */
export async function main(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [first, second] = argv;
  if (first === undefined) return runCommand(COMMANDS[0]!, [], io);
  if (first === '--help' || first === '-h' || first === 'help') {
    io.stdout.write(overview(COMMANDS));
    return 0;
  }
  if (first === '--version' || first === '-v') {
    io.stdout.write(`portcullis ${version()}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === `${first} ${second}`) ?? COMMANDS.find((c) => c.name === first);
  if (command) return runCommand(command, argv.slice(command.name.split(' ').length), io);
  const group = COMMANDS.filter((c) => c.name.startsWith(`${first} `));
  if (group.length && (second === '--help' || second === '-h')) {
    io.stdout.write(overview(group, `Usage: portcullis ${first} <command> [options]`));
    return 0;
  }
  const names = group.map((c) => c.name.slice(first.length + 1)).join(', ');
  const problem = !group.length
    ? usageError(`unknown command: ${first}`)
    : usageError(second === undefined || second.startsWith('-') ? `missing command (one of: ${names})` : `unknown command: ${first} ${second} (one of: ${names})`, first);
  return report(problem, undefined, io);
}

async function runCommand(command: Command, argv: string[], io: CliIo): Promise<number> {
  try {
    return await (await command.load())(argv, io);
  } catch (err) {
    return report(err, command.name, io);
  }
}

/** One line on stderr for any failure; the exit code says what kind. */
function report(err: unknown, commandName: string | undefined, io: CliIo): number {
  const usage = isPortcullisError(err) && err.rule === USAGE;
  const named = usage ? (err.detail.command as string | undefined) : undefined;
  const name = commandName ?? named;
  const prefix = name ? `portcullis ${name}` : 'portcullis';
  if (usage) {
    io.stderr.write(`${prefix}: ${err.message} (see ${named ? `portcullis ${named} --help` : 'portcullis --help'})\n`);
    return 2;
  }
  if (isPortcullisError(err) && err.code === 'config_invalid') {
    const errors = (err.detail.errors as FieldError[] | undefined) ?? [];
    const list = errors.map((e) => `${e.path}: ${e.message}`).join('; ');
    io.stderr.write(`${prefix}: invalid configuration — ${list || err.message}\n`);
    return 1;
  }
  // Our own errors say what failed in their message; anything else is described without a stack.
  io.stderr.write(`${prefix}: ${isPortcullisError(err) && err.code !== 'internal_error' ? err.message : describeError(err)}\n`);
  return 1;
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  // `start` keeps running (its server holds the event loop); everything else ends here.
  process.exitCode = code;
}
