/**
 * What the administrative commands share with the server: the same configuration (file →
 * environment), the same store (SQLite in dataDir, or PostgreSQL via DATABASE_URL), migrated
 * the same way, and the same root secret (`loadRootSecret`), so a client secret hashed or a
 * signing key sealed here is read back by the server exactly as if it had written it.
 */
import { userInfo } from 'node:os';
import { AuditLog } from '../audit/audit-log.ts';
import { createLogger } from '../core/log.ts';
import type { Store } from '../store/store.ts';
import { loadConfig, type Config } from '../core/config.ts';
import type { DerivedSecrets } from '../core/crypto.ts';
import { loadRootSecret } from '../core/secrets.ts';
import { openStore, sqlitePath } from '../store/open.ts';
import { commandFailed, describeError } from './args.ts';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Where passwords are read from (default process.stdin). */
  stdin?: NodeJS.ReadStream;
}

/** A subcommand's entry point: its arguments (after the command words) → exit code. */
export type CommandRun = (argv: string[], io: CliIo) => Promise<number>;

export function loadCliConfig(file: string | undefined): Config {
  return loadConfig({ file });
}

/** Where the store lives, for messages: the SQLite file, or the PostgreSQL URL without its password. */
export function storeLocation(config: Config): string {
  return config.databaseUrl ? maskUrlPassword(config.databaseUrl) : sqlitePath(config.dataDir);
}

export function maskUrlPassword(raw: string): string {
  const url = URL.parse(raw);
  if (!url) return '********';
  if (url.password) url.password = '****';
  return url.href;
}

/** Open the configured store, or fail with one line saying which database could not be reached. */
export async function openConfiguredStore(config: Config): Promise<Store> {
  try {
    const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    if (config.databaseUrl) {
      try {
        await store.ping();
      } catch (err) {
        await store.close().catch(() => {});
        throw err;
      }
    }
    return store;
  } catch (err) {
    throw commandFailed('unavailable', `cannot open the store at ${storeLocation(config)}: ${describeError(err)}`, err);
  }
}

/**
 * Run `fn` with the migrated store and the derived secrets, then close the store. The server
 * migrates on start, so commands that run before the first start (creating the first user or
 * client) migrate too: migrations are idempotent and serialized by a lock.
 */
export async function withStore<T>(config: Config, io: CliIo, fn: (store: Store, secrets: () => DerivedSecrets) => Promise<T>): Promise<T> {
  const store = await openConfiguredStore(config);
  try {
    try {
      await store.migrate();
    } catch (err) {
      throw commandFailed('unavailable', `cannot migrate the store at ${storeLocation(config)}: ${describeError(err)}`, err);
    }
    // Loaded only by commands that hash or seal something: listing never creates a secret file.
    let secrets: DerivedSecrets | undefined;
    const loadSecrets = () => {
      if (!secrets) {
        const root = loadRootSecret({ secretKey: config.secretKey, dataDir: config.dataDir });
        for (const warning of root.warnings) io.stderr.write(`warning: ${warning}\n`);
        if (root.created) io.stderr.write(`note: generated a new root secret in ${root.origin}\n`);
        secrets = root.secrets;
      }
      return secrets;
    };
    return await fn(store, loadSecrets);
  } finally {
    await store.close().catch(() => {});
  }
}

/** Who acts when a command changes something: the machine's user, as the audit trail and the tool reviews name them. */
export function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

/** The audit log for a command's changes: each is written before the command reports it done. */
export function cliAudit(store: Store): AuditLog {
  return new AuditLog(store, createLogger('warn', process.stderr), () => Math.floor(Date.now() / 1000));
}
