/**
 * The token file holds refresh tokens: it must be private from its first byte, never half
 * written, and never trusted (or silently overwritten) when it is not what we wrote or when
 * other users could have read it.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AuthFile, type StoredAccount } from '../../src/sdk/device-login/auth-file.ts';
import { DeviceLoginError } from '../../src/sdk/device-login/errors.ts';

function place(): { dir: string; path: string } {
  const dir = join(mkdtempSync(join(tmpdir(), 'portcullis-auth-')), 'home', '.portcullis');
  return { dir, path: join(dir, 'auth.json') };
}

function entry(account: string, accessToken = `at-${account}`): StoredAccount {
  return {
    server: 'https://mcp.example.com/mcp',
    account,
    issuer: 'https://auth.example.com',
    clientId: 'portcullis-cli',
    tokenEndpoint: 'https://auth.example.com/oauth/token',
    user: { sub: account, email: `${account}@example.com` },
    accessToken,
    refreshToken: `rt-${account}`,
    expiresAt: 2_000_000_000,
    savedAt: 1_900_000_000,
  };
}

function signIn(file: AuthFile, account: string) {
  return file.update((data) => {
    data.accounts.push(entry(account));
    data.current[entry(account).server] = account;
  });
}

const mode = (path: string) => statSync(path).mode & 0o777;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof DeviceLoginError, `expected a DeviceLoginError, got ${String(err)}`);
    return err.code;
  }
  return undefined;
}

describe('the token file', () => {
  it('is created readable by its owner only (0600), in a directory only its owner can enter (0700)', () => {
    const { dir, path } = place();
    signIn(new AuthFile(path), 'ada');
    assert.equal(mode(path), 0o600);
    assert.equal(mode(dir), 0o700);
    assert.equal(new AuthFile(path).read().accounts[0]!.accessToken, 'at-ada');
  });

  it('is replaced as a whole by rename, leaving no temporary file behind', () => {
    const { dir, path } = place();
    const file = new AuthFile(path);
    signIn(file, 'ada');
    const before = statSync(path).ino;
    signIn(file, 'bob');
    assert.notEqual(statSync(path).ino, before, 'a new file was renamed into place (an in-place write could be seen half done)');
    assert.deepEqual(readdirSync(dir), ['auth.json']);
    assert.equal(mode(path), 0o600);
    assert.deepEqual(file.read().accounts.map((a) => a.account), ['ada', 'bob']);
  });

  it('a write that fails half-way leaves the previous file intact and no temporary file', () => {
    const { dir, path } = place();
    const file = new AuthFile(path);
    signIn(file, 'ada');
    // Serialization fails after the temporary file was opened (as a full disk would, mid-write).
    const poisoned = Object.assign(entry('bob'), { toJSON: () => { throw new Error('ENOSPC: no space left on device'); } });
    assert.throws(() => file.update((data) => data.accounts.push(poisoned)), /ENOSPC/);
    assert.deepEqual(file.read().accounts.map((a) => a.account), ['ada']);
    assert.deepEqual(readdirSync(dir), ['auth.json']);
  });

  it('a corrupted file is refused with auth_file_corrupt, and the next save keeps it as a backup', () => {
    const { dir, path } = place();
    const file = new AuthFile(path);
    signIn(file, 'ada');
    writeFileSync(path, '{"version":1,"current":{},"accounts":[{"server":', { mode: 0o600 });
    assert.equal(codeOf(() => file.read()), 'auth_file_corrupt');
    // Valid JSON that is not our format is not trusted either.
    writeFileSync(path, JSON.stringify({ version: 1, current: {}, accounts: [{ server: 'x', accessToken: 'stolen' }] }));
    assert.equal(codeOf(() => file.read()), 'auth_file_corrupt');
    const damaged = readFileSync(path, 'utf8');

    const { backup } = signIn(file, 'bob');
    assert.ok(backup?.startsWith(`${path}.bak-`), 'the save says where the old file went');
    assert.ok(backup);
    assert.equal(readFileSync(backup, 'utf8'), damaged, 'the backup is the damaged file, byte for byte');
    assert.equal(mode(backup), 0o600);
    assert.deepEqual(file.read().accounts.map((a) => a.account), ['bob']);
    assert.equal(readdirSync(dir).length, 2);
  });

  it('a file others can read is refused with auth_file_insecure (its tokens are never used), and kept as a private backup', () => {
    const { path } = place();
    const file = new AuthFile(path);
    signIn(file, 'ada');
    chmodSync(path, 0o644);
    assert.equal(codeOf(() => file.read()), 'auth_file_insecure');
    chmodSync(path, 0o640);
    assert.equal(codeOf(() => file.read()), 'auth_file_insecure');

    const { backup } = signIn(file, 'bob');
    assert.ok(backup);
    assert.equal(mode(backup), 0o600, 'the backup is no longer readable by others');
    assert.equal(JSON.parse(readFileSync(backup, 'utf8')).accounts[0].account, 'ada');
    assert.equal(mode(path), 0o600);
    assert.deepEqual(file.read().accounts.map((a) => a.account), ['bob'], "ada's possibly leaked tokens were not carried over");
  });

  it('a missing file is simply "nobody signed in"', () => {
    const { path } = place();
    assert.deepEqual(new AuthFile(path).read(), { version: 1, current: {}, accounts: [] });
  });
});
