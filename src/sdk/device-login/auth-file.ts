/**
 * The token file, `~/.portcullis/auth.json` (or `PORTCULLIS_AUTH_FILE`): one entry per (server,
 * account), and which account is current for each server.
 *
 * It holds refresh tokens, so it is treated like an SSH key:
 * - created with mode 0600 in a directory created with mode 0700;
 * - written atomically: a temporary file in the same directory (same file system, so `rename` is
 *   atomic, POSIX rename(2)), flushed, then renamed over the old one — a crash leaves the old file
 *   or the new one, never half of each;
 * - a file that group or others can read, or that another user owns, is refused
 *   (`auth_file_insecure`): its tokens may have been copied, so using them silently would hide that;
 * - a file that is not what we wrote is refused (`auth_file_corrupt`), never guessed at;
 * - either kind is never overwritten: the next save first moves it to `auth.json.bak-<time>`
 *   (mode 0600) and says so.
 * Reads and writes are synchronous, so one process's read-modify-write cannot interleave with itself.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { DeviceLoginError } from './errors.ts';

const account = z.object({
  /** The protected resource (the MCP server's URL, RFC 9728 `resource`): the token audience. */
  server: z.string().min(1),
  /** Who: the user's `sub`, with the organization the token acts for when there is one. */
  account: z.string().min(1),
  issuer: z.string().min(1),
  clientId: z.string().min(1),
  tokenEndpoint: z.string().min(1),
  revocationEndpoint: z.string().optional(),
  user: z.object({ sub: z.string(), email: z.string().optional(), name: z.string().optional() }),
  org: z.object({ id: z.string(), slug: z.string().optional(), name: z.string().optional(), role: z.string().optional() }).optional(),
  workspaces: z.array(z.object({ id: z.string(), name: z.string().optional() })).optional(),
  accessToken: z.string().min(1),
  refreshToken: z.string().optional(),
  /** Epoch seconds. */
  expiresAt: z.number(),
  scope: z.string().optional(),
  savedAt: z.number(),
});

const fileSchema = z.object({
  version: z.literal(1),
  /** server → the `account` of its current entry. */
  current: z.record(z.string(), z.string()),
  accounts: z.array(account),
});

export type StoredAccount = z.infer<typeof account>;
export type AuthData = z.infer<typeof fileSchema>;

export function emptyAuthData(): AuthData {
  return { version: 1, current: {}, accounts: [] };
}

/** `PORTCULLIS_AUTH_FILE`, else `~/.portcullis/auth.json`. */
export function defaultAuthFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.PORTCULLIS_AUTH_FILE || join(homedir(), '.portcullis', 'auth.json');
}

/** Modes mean nothing on Windows (ACLs protect the profile directory instead). */
const CHECK_MODES = process.platform !== 'win32';

export class AuthFile {
  readonly path: string;
  constructor(path: string = defaultAuthFilePath()) {
    this.path = path;
  }

  /** The file's content; empty when it does not exist. Throws `auth_file_insecure` / `auth_file_corrupt`. */
  read(): AuthData {
    let stat;
    try {
      stat = statSync(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyAuthData();
      throw new DeviceLoginError('auth_file_corrupt', `cannot read the token file ${this.path}: ${(err as Error).message}`, { detail: { path: this.path }, cause: err });
    }
    if (CHECK_MODES) {
      if ((stat.mode & 0o077) !== 0) {
        throw new DeviceLoginError(
          'auth_file_insecure',
          `the token file ${this.path} can be read by other users (mode ${(stat.mode & 0o777).toString(8)}); its tokens are not used. Sign in again (the file is kept as a backup) or run chmod 600 on it if you are sure no one copied it`,
          { detail: { path: this.path, mode: (stat.mode & 0o777).toString(8) } },
        );
      }
      if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) {
        throw new DeviceLoginError('auth_file_insecure', `the token file ${this.path} belongs to another user; its tokens are not used`, { detail: { path: this.path } });
      }
    }
    if (!stat.isFile()) throw new DeviceLoginError('auth_file_corrupt', `the token file ${this.path} is not a regular file`, { detail: { path: this.path } });
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch (err) {
      throw new DeviceLoginError('auth_file_corrupt', `the token file ${this.path} is not valid JSON; it is not used (sign in again: the file is kept as a backup)`, { detail: { path: this.path }, cause: err });
    }
    const result = fileSchema.safeParse(parsed);
    if (!result.success) {
      throw new DeviceLoginError('auth_file_corrupt', `the token file ${this.path} is not a Portcullis token file; it is not used (sign in again: the file is kept as a backup)`, { detail: { path: this.path } });
    }
    return result.data;
  }

  /**
   * Read, change, write back. An untrusted file (corrupt or insecure) is first moved aside to a
   * backup and `change` starts from an empty file; the backup's path is returned so callers can say so.
   */
  update(change: (data: AuthData) => void): { backup?: string } {
    let data: AuthData;
    let backup: string | undefined;
    try {
      data = this.read();
    } catch (err) {
      if (!(err instanceof DeviceLoginError)) throw err;
      backup = this.#backUp();
      data = emptyAuthData();
    }
    change(data);
    this.#write(data);
    return backup ? { backup } : {};
  }

  /** Move the current file aside as `auth.json.bak-<time>`, readable by its owner only. */
  #backUp(): string {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const target = `${this.path}.bak-${stamp}`;
    renameSync(this.path, target);
    if (CHECK_MODES) chmodSync(target, 0o600);
    return target;
  }

  #write(data: AuthData): void {
    const dir = dirname(this.path);
    // recursive mkdir applies the mode to the directories it creates, never to existing ones.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const temp = join(dir, `.${basename(this.path)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    // 'wx': never follow or reuse an existing file; created 0600 from the first byte (no chmod window).
    const fd = openSync(temp, 'wx', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(data, null, 2)}\n`);
      fsyncSync(fd);
    } catch (err) {
      closeSync(fd);
      unlinkSync(temp);
      throw err;
    } finally {
      try {
        closeSync(fd);
      } catch {
        // already closed on the error path
      }
    }
    renameSync(temp, this.path);
  }
}
