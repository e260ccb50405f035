/**
 * Argument parsing and failure kinds for every subcommand: node:util `parseArgs` in strict mode, with its errors
 * turned into usage errors (exit code 2) and a `--help` that prints the command's own usage.
 *
 * Exit codes across the CLI: 0 done; 1 the command was understood but could not be carried out
 * (invalid configuration, unreachable database, duplicate e-mail, unknown client…); 2 the command
 * line itself is wrong (unknown command or option, missing or malformed value).
 */
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { PortcullisError, type ErrorCode } from '../core/errors.ts';

/** The rule of every "the command line is wrong" error: cli/main.ts answers it with exit code 2. */
export const USAGE = 'usage';

/** The command line is wrong (exit code 2); `command`, e.g. `clients add`, points at its --help. */
export function usageError(message: string, command?: string): PortcullisError {
  return new PortcullisError('invalid_request', message, { rule: USAGE, detail: command === undefined ? {} : { command } });
}

/** The command was understood but could not be done (exit code 1, one line on stderr). */
export function commandFailed(code: ErrorCode, message: string, cause?: unknown): PortcullisError {
  return new PortcullisError(code, message, { rule: 'command', cause });
}

/** One line for an unexpected error: its message (and code), never a stack. */
export function describeError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length) return describeError(err.errors[0]);
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    const message = err.message.split('\n')[0]!.trim();
    if (!message) return code ?? err.name;
    return code && !message.includes(code) ? `${message} (${code})` : message;
  }
  return String(err);
}

export interface CommandSpec<O extends ParseArgsOptionsConfig> {
  /** `clients add` */
  name: string;
  /** Usage lines and option descriptions, printed by --help. */
  help: string;
  options: O;
  /** Positional arguments: how many are allowed at least / at most. */
  positionals?: { min: number; max: number; names: string };
}

/** Options every command accepts. */
export const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  config: { type: 'string', short: 'c' },
} as const satisfies ParseArgsOptionsConfig;

export const CONFIG_HELP = '  -c, --config FILE   configuration file (default: PORTCULLIS_CONFIG, else ./portcullis.config.json)';

export type Parsed<O extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ options: O & typeof COMMON_OPTIONS; allowPositionals: true; strict: true }>>;

/**
 * Parse `argv` for `spec`. Returns undefined when --help was given (the usage has been printed).
 * Throws a usage error (exit code 2) for unknown options, missing values and a wrong number of positionals.
 */
export function parseCommand<O extends ParseArgsOptionsConfig>(spec: CommandSpec<O>, argv: string[], out: NodeJS.WritableStream = process.stdout): Parsed<O> | undefined {
  let parsed: Parsed<O>;
  try {
    parsed = parseArgs({ args: argv, options: { ...spec.options, ...COMMON_OPTIONS }, allowPositionals: true, strict: true }) as Parsed<O>;
  } catch (err) {
    throw usageError(usageMessage(err), spec.name);
  }
  if ((parsed.values as { help?: boolean }).help) {
    out.write(`${spec.help.trimEnd()}\n`);
    return undefined;
  }
  const limits = spec.positionals ?? { min: 0, max: 0, names: '' };
  if (parsed.positionals.length < limits.min) throw usageError(`missing ${limits.names}`, spec.name);
  if (parsed.positionals.length > limits.max) throw usageError(`unexpected argument: ${parsed.positionals[limits.max]}`, spec.name);
  return parsed;
}

/** parseArgs errors carry a code and a message with a trailing hint; keep the first sentence. */
function usageMessage(err: unknown): string {
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message.split('\n')[0]!.replace(/\. To specify .*$/, '') : String(err);
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return message.replace(/^Unknown option '([^']+)'.*$/, 'unknown option: $1');
  return message.replace(/\.$/, '');
}

/** Values of a repeatable string option, as an array (parseArgs gives undefined when absent). */
export function many(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
