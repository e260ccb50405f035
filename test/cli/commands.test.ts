/**
 * The `portcullis` command line as an operator meets it: help for every command, exit codes
 * (0 done, 1 could not be done, 2 wrong command line), one-line errors without stack traces,
 * `migrate`, `config check`, and `admin create-user` — each run as a real child process.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { verifyPassword } from '../../src/core/crypto.ts';
import { openStore } from '../../src/store/open.ts';
import { latestVersion, listMigrations } from '../../src/store/sql/migrate.ts';
import { json, oneLineError, runCli, tempDir } from './run-cli.ts';

const COMMANDS = [
  ['start'],
  ['migrate'],
  ['config', 'check'],
  ['admin', 'create-user'],
  ['clients', 'add'],
  ['clients', 'list'],
  ['clients', 'remove'],
  ['keys', 'rotate'],
  ['keys', 'list'],
  ['keys', 'retire'],
];

describe('portcullis: help and usage errors', () => {
  it('lists every command with --help, and each command has its own --help (exit 0)', async () => {
    const top = await runCli(['--help']);
    assert.equal(top.code, 0);
    for (const words of COMMANDS) assert.ok(top.stdout.includes(words.join(' ')), `--help lists ${words.join(' ')}`);
    const helps = await Promise.all(COMMANDS.map((words) => runCli([...words, '--help'])));
    for (const [i, help] of helps.entries()) {
      assert.equal(help.code, 0, `${COMMANDS[i]!.join(' ')} --help`);
      assert.ok(help.stdout.startsWith(`Usage: portcullis ${COMMANDS[i]!.join(' ')}`), help.stdout);
      assert.equal(help.stderr, '');
    }
  });

  it('answers usage errors with exit code 2 and one line: unknown command, unknown option, missing subcommand, stray argument', async () => {
    const cases = [['frobnicate'], ['migrate', '--frobnicate'], ['clients'], ['keys', 'spin'], ['clients', 'list', 'extra'], ['clients', 'remove'], ['config', 'check', '--json=yes']];
    const results = await Promise.all(cases.map((args) => runCli(args)));
    for (const [i, result] of results.entries()) {
      assert.equal(result.code, 2, `${cases[i]!.join(' ')}: ${result.stderr}`);
      oneLineError(result);
      assert.equal(result.stdout, '');
    }
  });

  it('prints its version', async () => {
    const result = await runCli(['--version']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^portcullis \d+\.\d+\.\d+/);
  });
});

describe('portcullis migrate (SQLite)', () => {
  it('applies every migration to a new data directory, prints the versions, and then has nothing to do', async () => {
    const dataDir = tempDir();
    const first = await runCli(['migrate', '--json'], { dataDir });
    assert.equal(first.code, 0, first.stderr);
    const report = json<{ dialect: string; applied: number[]; version: number }>(first);
    assert.equal(report.dialect, 'sqlite');
    assert.deepEqual(report.applied, listMigrations('sqlite').map((m) => m.version));
    assert.equal(report.version, latestVersion('sqlite'));

    const again = await runCli(['migrate', '--json'], { dataDir });
    assert.equal(again.code, 0);
    assert.deepEqual(json(again).applied, []);

    const human = await runCli(['migrate'], { dataDir });
    assert.equal(human.code, 0);
    assert.ok(human.stdout.includes(String(latestVersion('sqlite'))));
    // Migrating does not need (or create) the root secret.
    assert.equal(existsSync(join(dataDir, 'secret.key')), false);

    const store = await openStore({ dataDir });
    try {
      assert.deepEqual((await store.migrate()).applied, [], 'the store the server opens is up to date');
    } finally {
      await store.close();
    }
  });

  it('fails with exit 1 and one line when the database cannot be reached', async () => {
    const result = await runCli(['migrate'], { dataDir: tempDir(), env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' } });
    assert.equal(result.code, 1);
    oneLineError(result);
  });
});

describe('portcullis config check', () => {
  it('prints the effective configuration from file and environment, secrets masked', async () => {
    const dir = tempDir();
    const secretKey = Buffer.alloc(32, 7).toString('base64url');
    writeFileSync(
      join(dir, 'portcullis.config.json'),
      JSON.stringify({
        port: 4567,
        tokens: { accessTokenTtl: '10m' },
        smtp: { host: 'mail.internal', from: 'auth@example.com', user: 'auth', password: 'smtp-pass-0123' },
        applications: [{ slug: 'crm', name: 'CRM', upstream: { url: 'https://crm.internal/mcp', headers: { authorization: 'Bearer upstream-secret-0123' } } }],
      }),
    );
    const result = await runCli(['config', 'check', '--json'], {
      cwd: dir,
      env: {
        PORTCULLIS_ACCESS_TOKEN_TTL: '15m',
        PORTCULLIS_SECRET_KEY: secretKey,
        DATABASE_URL: 'postgres://portcullis:hunter2-hunter2@db.internal:5432/auth',
        PORTCULLIS_REGISTRATION: 'initial-access-token',
        PORTCULLIS_INITIAL_ACCESS_TOKEN: 'iat-0123456789abcdef',
        PORTCULLIS_METRICS_TOKEN: 'metrics-0123456789abcdef',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel:collector-pass@otel.internal:4318',
        REDIS_URL: 'redis://:redis-pass-0123@cache.internal:6379',
      },
    });
    assert.equal(result.code, 0, result.stderr);
    const out = json<{ config: Record<string, any>; sources: string[]; warnings: string[] }>(result);
    assert.equal(out.config.port, 4567, 'from the file');
    assert.equal(out.config.tokens.accessTokenTtl, 900, 'the environment wins over the file');
    assert.equal(out.config.tokens.refreshTokenTtl, 30 * 86400, 'defaults fill the rest');
    assert.equal(out.config.registration.policy, 'initial-access-token');
    assert.deepEqual(out.sources.slice(-1), ['environment']);
    for (const secret of [secretKey, 'hunter2-hunter2', 'iat-0123456789abcdef', 'metrics-0123456789abcdef', 'collector-pass', 'smtp-pass-0123', 'redis-pass-0123', 'upstream-secret-0123']) {
      assert.ok(!result.stdout.includes(secret), 'no secret value is printed');
    }
    assert.equal(new URL(out.config.databaseUrl).hostname, 'db.internal', 'the database is still named');
    assert.equal(out.config.smtp.host, 'mail.internal', 'the mail server is still named');
    assert.ok(out.config.applications[0].upstream.headers.authorization, 'the header is named, its value masked');
  });

  it('prints every warning: metadata documents from private addresses, a shared database without a shared secret', async () => {
    const result = await runCli(['config', 'check', '--json'], {
      dataDir: tempDir(),
      env: { PORTCULLIS_CIMD_ALLOW_PRIVATE: 'true', DATABASE_URL: 'postgres://localhost/db' },
    });
    assert.equal(result.code, 0, result.stderr);
    const { warnings } = json<{ warnings: string[] }>(result);
    assert.equal(warnings.length, 2);
    assert.ok(warnings.some((w) => w.includes('cimd.allowPrivateAddresses')));
    assert.ok(warnings.some((w) => w.includes('databaseUrl')));
    const human = await runCli(['config', 'check'], { dataDir: tempDir(), env: { PORTCULLIS_CIMD_ALLOW_PRIVATE: '1' } });
    assert.equal(human.code, 0);
    assert.match(human.stdout, /^warning: .*cimd\.allowPrivateAddresses/m);
  });

  it('warns about a root-secret file other users can read, and creates none when there is none', async () => {
    const dataDir = tempDir();
    const clean = await runCli(['config', 'check', '--json'], { dataDir });
    assert.deepEqual(json(clean).warnings, []);
    assert.equal(existsSync(join(dataDir, 'secret.key')), false, 'checking creates nothing');
    writeFileSync(join(dataDir, 'secret.key'), `${Buffer.alloc(32, 1).toString('base64url')}\n`);
    chmodSync(join(dataDir, 'secret.key'), 0o644);
    const loose = await runCli(['config', 'check', '--json'], { dataDir });
    const { warnings } = json<{ warnings: string[] }>(loose);
    assert.equal(warnings.length, 1);
    assert.ok(warnings[0]!.includes(join(dataDir, 'secret.key')));
  });

  it('refuses invalid configuration with exit 1 and one line naming each offending key', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'portcullis.config.json'), JSON.stringify({ publicUrl: 'http://auth.example.com', tokens: { refreshTokenIdleTtl: '60d' } }));
    const result = await runCli(['config', 'check'], { cwd: dir });
    assert.equal(result.code, 1);
    const line = oneLineError(result);
    assert.ok(line.includes('publicUrl'), line);
    assert.ok(line.includes('tokens.refreshTokenIdleTtl'), line);
    assert.equal(result.stdout, '');

    const unknownEnv = await runCli(['config', 'check'], { dataDir: tempDir(), env: { PORTCULLIS_PORTT: '80' } });
    assert.equal(unknownEnv.code, 1);
    assert.ok(oneLineError(unknownEnv).includes('PORTCULLIS_PORTT'));

    const unknownKey = join(dir, 'other.json');
    writeFileSync(unknownKey, JSON.stringify({ tokens: { acessTokenTtl: 60 } }));
    const viaFlag = await runCli(['config', 'check', '--config', unknownKey], { cwd: dir });
    assert.equal(viaFlag.code, 1);
    assert.ok(oneLineError(viaFlag).includes('tokens'));

    const missing = await runCli(['config', 'check'], { cwd: dir, env: { PORTCULLIS_CONFIG: join(dir, 'nope.json') } });
    assert.equal(missing.code, 1);
    oneLineError(missing);
  });

  it('every other command refuses to run on an invalid configuration (exit 1)', async () => {
    const results = await Promise.all([
      runCli(['migrate'], { dataDir: tempDir(), env: { PORTCULLIS_PORT: 'eighty' } }),
      runCli(['clients', 'list'], { dataDir: tempDir(), env: { PORTCULLIS_PORT: 'eighty' } }),
      runCli(['keys', 'rotate'], { dataDir: tempDir(), env: { PORTCULLIS_PORT: 'eighty' } }),
    ]);
    for (const result of results) {
      assert.equal(result.code, 1);
      assert.ok(oneLineError(result).includes('PORTCULLIS_PORT'));
    }
  });
});

describe('portcullis admin create-user', () => {
  it('creates a user whose password is stored as an Argon2id hash that verifies', async () => {
    const dataDir = tempDir();
    const password = 'a long enough passphrase';
    const result = await runCli(['admin', 'create-user', '--email', 'grace@example.com', '--name', 'Grace Hopper', '--admin', '--password-stdin', '--json'], {
      dataDir,
      stdin: `${password}\n`,
    });
    assert.equal(result.code, 0, result.stderr);
    const created = json<{ id: string; email: string; admin: boolean }>(result);
    assert.equal(created.email, 'grace@example.com');
    assert.equal(created.admin, true);
    assert.ok(!result.stdout.includes(password) && !result.stderr.includes(password));

    const store = await openStore({ dataDir });
    try {
      const user = await store.users.findByEmail('grace@example.com');
      assert.ok(user);
      assert.equal(user.id, created.id);
      assert.equal(user.name, 'Grace Hopper');
      assert.equal(user.isAdmin, true);
      assert.match(user.passwordHash!, /^\$argon2id\$/);
      assert.equal(await verifyPassword(password, user.passwordHash!), true, 'the trailing newline is not part of the password');
      assert.equal(await verifyPassword(`${password}\n`, user.passwordHash!), false);
    } finally {
      await store.close();
    }
  });

  it('refuses a duplicate e-mail (any case) and a short password with exit 1', async () => {
    const dataDir = tempDir();
    const ok = await runCli(['admin', 'create-user', '--email', 'ada@example.com', '--password-stdin'], { dataDir, stdin: 'correct horse battery staple' });
    assert.equal(ok.code, 0, ok.stderr);
    const [duplicate, short, empty] = await Promise.all([
      runCli(['admin', 'create-user', '--email', 'ADA@example.com', '--password-stdin'], { dataDir, stdin: 'another long password' }),
      runCli(['admin', 'create-user', '--email', 'bob@example.com', '--password-stdin'], { dataDir, stdin: '123456789\n' }),
      runCli(['admin', 'create-user', '--email', 'eve@example.com', '--password-stdin'], { dataDir, stdin: '' }),
    ]);
    for (const result of [duplicate, short, empty]) {
      assert.equal(result.code, 1, result.stderr);
      oneLineError(result);
    }
    const store = await openStore({ dataDir });
    try {
      assert.deepEqual((await store.users.list()).map((u) => u.email), ['ada@example.com']);
    } finally {
      await store.close();
    }
  });

  it('refuses a missing or malformed --email, and a password neither piped nor typed, with exit 2', async () => {
    const dataDir = tempDir();
    const results = await Promise.all([
      runCli(['admin', 'create-user', '--password-stdin'], { dataDir, stdin: 'correct horse battery staple' }),
      runCli(['admin', 'create-user', '--email', 'not-an-address', '--password-stdin'], { dataDir, stdin: 'correct horse battery staple' }),
      // stdin is a pipe, not a terminal: there is nobody to ask.
      runCli(['admin', 'create-user', '--email', 'bob@example.com'], { dataDir }),
      runCli(['admin', 'create-user', '--email', 'bob@example.com', '--password', 'on-the-command-line'], { dataDir }),
    ]);
    for (const result of results) {
      assert.equal(result.code, 2, result.stderr);
      oneLineError(result);
    }
  });
});

describe('portcullis clients add: refusals (exit 2, nothing stored)', () => {
  it('refuses contradictory, missing or unsafe options', async () => {
    const dataDir = tempDir();
    const cases: string[][] = [
      ['--redirect-uri', 'https://app.example.com/cb'], // no --name
      ['--name', 'A'], // no redirect URI for the authorization_code grant
      ['--name', 'A', '--public', '--confidential', '--redirect-uri', 'https://app.example.com/cb'],
      ['--name', 'A', '--public', '--grant', 'client_credentials'], // RFC 6749 §4.4: confidential clients only
      ['--name', 'A', '--grant', 'implicit', '--redirect-uri', 'https://app.example.com/cb'],
      ['--name', 'A', '--redirect-uri', 'http://app.example.com/cb'], // http off loopback (OAuth 2.1 §2.3.1)
      ['--name', 'A', '--redirect-uri', 'https://app.example.com/cb#frag'],
      ['--name', 'A', '--redirect-uri', 'javascript:alert(1)'],
      ['--name', 'A', '--redirect-uri', '/relative/cb'],
      ['--name', 'A', '--public', '--redirect-uri', 'https://app.example.com/cb', '--resource-server', 'https://api.example.com'],
      ['--name', 'A', '--grant', 'client_credentials', '--resource-server', 'http://api.example.com'],
      ['--name', 'A', '--grant', 'client_credentials', '--id', 'portcullis-cli'],
      ['--name', 'A', '--grant', 'client_credentials', '--id', 'has spaces'],
    ];
    const results = await Promise.all(cases.map((args) => runCli(['clients', 'add', ...args], { dataDir })));
    for (const [i, result] of results.entries()) {
      assert.equal(result.code, 2, `clients add ${cases[i]!.join(' ')}: ${result.stderr}`);
      oneLineError(result);
    }
    const list = await runCli(['clients', 'list', '--json'], { dataDir });
    assert.deepEqual(json<unknown[]>(list), []);
  });

  it('accepts a native app with a reverse-domain private-use scheme (RFC 8252 §7.1)', async () => {
    const dataDir = tempDir();
    const result = await runCli(['clients', 'add', '--name', 'Mobile', '--redirect-uri', 'com.example.notes:/oauth/cb', '--json'], { dataDir });
    assert.equal(result.code, 0, result.stderr);
    const client = json<{ type: string; redirect_uris: string[] }>(result);
    assert.equal(client.type, 'public');
    assert.deepEqual(client.redirect_uris, ['com.example.notes:/oauth/cb']);
  });
});
