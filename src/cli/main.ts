/**
 * The `portcullis` command: finds the subcommand named by the first words of the command line
 * (`clients add`, `keys rotate`…) and runs it. Every failure ends as one line on stderr — never a
 * stack trace — and an exit code: 0 done, 1 could not be done, 2 the command line is wrong.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isPortcullisError, type FieldError } from '../core/errors.ts';
import { createUserCommand } from './admin.ts';
import { CommandError, UsageError } from './args.ts';
import { clientCommands } from './clients.ts';
import { configCheckCommand } from './config-check.ts';
import { describeError, type CliIo, type Command } from './context.ts';
import { keyCommands } from './keys.ts';
import { migrateCommand } from './migrate.ts';
import { startCommand } from './start.ts';

export const COMMANDS: Command[] = [startCommand, migrateCommand, configCheckCommand, createUserCommand, ...clientCommands, ...keyCommands];

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
  if (first === undefined) return startCommand.run([], io);
  if (first === '--help' || first === '-h' || first === 'help') {
    io.stdout.write(overview(COMMANDS));
    return 0;
  }
  if (first === '--version' || first === '-v') {
    io.stdout.write(`portcullis ${version()}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === `${first} ${second}`) ?? COMMANDS.find((c) => c.name === first);
  try {
    if (!command) {
      const group = COMMANDS.filter((c) => c.name.startsWith(`${first} `));
      if (!group.length) throw new UsageError(`unknown command: ${first}`);
      if (second === '--help' || second === '-h') {
        io.stdout.write(overview(group, `Usage: portcullis ${first} <command> [options]`));
        return 0;
      }
      const names = group.map((c) => c.name.slice(first.length + 1)).join(', ');
      throw new UsageError(second === undefined || second.startsWith('-') ? `missing command (one of: ${names})` : `unknown command: ${first} ${second} (one of: ${names})`, first);
    }
    return await command.run(argv.slice(command.name.split(' ').length), io);
  } catch (err) {
    return report(err, command?.name, io);
  }
}

/** One line on stderr for any failure; the exit code says what kind. */
function report(err: unknown, commandName: string | undefined, io: CliIo): number {
  const name = commandName ?? (err instanceof UsageError ? err.command : undefined);
  const prefix = name ? `portcullis ${name}` : 'portcullis';
  if (err instanceof UsageError) {
    const help = err.command ? `portcullis ${err.command} --help` : 'portcullis --help';
    io.stderr.write(`${prefix}: ${err.message} (see ${help})\n`);
    return 2;
  }
  if (err instanceof CommandError) {
    io.stderr.write(`${prefix}: ${err.message}\n`);
    return 1;
  }
  if (isPortcullisError(err) && err.code === 'config_invalid') {
    const errors = (err.detail.errors as FieldError[] | undefined) ?? [];
    const list = errors.map((e) => `${e.path}: ${e.message}`).join('; ');
    io.stderr.write(`${prefix}: invalid configuration — ${list || err.message}\n`);
    return 1;
  }
  io.stderr.write(`${prefix}: ${describeError(err)}\n`);
  return 1;
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  // `start` keeps running (its server holds the event loop); everything else ends here.
  process.exitCode = code;
}
