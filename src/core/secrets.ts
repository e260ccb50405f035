/**
 * Where the root secret comes from: `secretKey` in config (PORTCULLIS_SECRET_KEY), or a file
 * `<dataDir>/secret.key` generated with mode 0600 on first start. Losing it makes every sealed
 * value (signing keys, refresh tokens) unreadable, so it is never regenerated over an existing file.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { deriveSecrets, type DerivedSecrets } from './crypto.ts';

export interface RootSecretSource {
  secrets: DerivedSecrets;
  /** 'config' or the file path it was read from / written to. */
  origin: string;
  created: boolean;
  warnings: string[];
}

export function secretFilePath(dataDir: string): string {
  return join(resolve(dataDir), 'secret.key');
}

export function loadRootSecret(options: { secretKey?: string; dataDir: string }): RootSecretSource {
  if (options.secretKey) {
    return { secrets: deriveSecrets(Buffer.from(options.secretKey, 'base64url')), origin: 'config', created: false, warnings: [] };
  }
  const file = secretFilePath(options.dataDir);
  if (existsSync(file)) return readSecretFile(file);
  mkdirSync(resolve(options.dataDir), { recursive: true, mode: 0o700 });
  const root = randomBytes(32);
  try {
    // 'wx' fails if another process created the file in the meantime: never overwrite a secret.
    writeFileSync(file, `${root.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readSecretFile(file);
    throw err;
  }
  chmodSync(file, 0o600);
  return { secrets: deriveSecrets(root), origin: file, created: true, warnings: [] };
}

function readSecretFile(file: string): RootSecretSource {
  const warnings: string[] = [];
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) warnings.push(`${file} is readable by other users (mode ${mode.toString(8)}); run: chmod 600 ${file}`);
  const root = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
  if (root.length < 32) throw new Error(`${file} does not hold a valid secret (expected ≥ 32 bytes, base64url)`);
  return { secrets: deriveSecrets(root), origin: file, created: false, warnings };
}
