/**
 * The root secret (src/core/secrets.ts): taken from config, or generated once into
 * <dataDir>/secret.key with mode 0600 — never overwritten, even when several processes start at
 * once — and a warning when other users can read the file.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { deriveSecrets, keyedHash } from '../../src/core/crypto.ts';
import { loadRootSecret, secretFilePath } from '../../src/core/secrets.ts';

const base = mkdtempSync(join(tmpdir(), 'portcullis-secrets-'));
after(() => rmSync(base, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(base, `data-${dirs++}`);
const mode = (path: string) => statSync(path).mode & 0o777;

describe('loadRootSecret', () => {
  it('uses secretKey from the configuration and writes nothing', () => {
    const dataDir = freshDir();
    const key = Buffer.alloc(32, 5);
    const source = loadRootSecret({ secretKey: key.toString('base64url'), dataDir });
    assert.equal(source.origin, 'config');
    assert.equal(source.created, false);
    assert.deepEqual(source.secrets, deriveSecrets(key));
    assert.equal(existsSync(dataDir), false);
  });

  it('generates <dataDir>/secret.key on first use, readable by its owner only, in a private directory', () => {
    const dataDir = join(freshDir(), 'nested', 'data');
    const source = loadRootSecret({ dataDir });
    const file = secretFilePath(dataDir);
    assert.equal(source.created, true);
    assert.equal(source.origin, file);
    assert.deepEqual(source.warnings, []);
    assert.equal(mode(file), 0o600);
    assert.equal(mode(dataDir) & 0o077, 0, 'the data directory is not open to others');
    const root = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
    assert.equal(root.length, 32);
    assert.deepEqual(source.secrets, deriveSecrets(root));
  });

  it('never overwrites an existing secret: later loads read it back unchanged', () => {
    const dataDir = freshDir();
    const first = loadRootSecret({ dataDir });
    const file = secretFilePath(dataDir);
    const content = readFileSync(file, 'utf8');
    const second = loadRootSecret({ dataDir });
    assert.equal(second.created, false);
    assert.deepEqual(second.secrets, first.secrets);
    assert.equal(readFileSync(file, 'utf8'), content);

    const planted = Buffer.alloc(48, 0xab);
    const other = freshDir();
    loadRootSecret({ dataDir: other }); // creates the directory
    writeFileSync(secretFilePath(other), planted.toString('base64url'), { mode: 0o600 });
    assert.deepEqual(loadRootSecret({ dataDir: other }).secrets, deriveSecrets(planted), 'a secret put there by an operator is used as is');
  });

  it('warns when other users can read the file (naming it), and not when they cannot', () => {
    const dataDir = freshDir();
    loadRootSecret({ dataDir });
    const file = secretFilePath(dataDir);
    for (const loose of [0o644, 0o640, 0o604]) {
      chmodSync(file, loose);
      const { warnings } = loadRootSecret({ dataDir });
      assert.equal(warnings.length, 1, loose.toString(8));
      assert.ok(warnings[0]!.includes(file));
    }
    chmodSync(file, 0o600);
    assert.deepEqual(loadRootSecret({ dataDir }).warnings, []);
    chmodSync(file, 0o400);
    assert.deepEqual(loadRootSecret({ dataDir }).warnings, []);
  });

  it('refuses a file that does not hold a 32-byte secret, and leaves it alone', () => {
    const dataDir = freshDir();
    loadRootSecret({ dataDir });
    const file = secretFilePath(dataDir);
    writeFileSync(file, 'short\n');
    assert.throws(() => loadRootSecret({ dataDir }));
    assert.equal(readFileSync(file, 'utf8'), 'short\n');
  });

  it('several processes starting at once on a new data directory all end up with the same secret', async () => {
    const dataDir = freshDir();
    const script = `
      import { loadRootSecret } from ${JSON.stringify(new URL('../../src/core/secrets.ts', import.meta.url).href)};
      import { keyedHash } from ${JSON.stringify(new URL('../../src/core/crypto.ts', import.meta.url).href)};
      const { secrets } = loadRootSecret({ dataDir: process.argv[1] });
      process.stdout.write(keyedHash(secrets.pepper, 'probe'));
    `;
    const outputs = await Promise.all(
      Array.from({ length: 6 }, () => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
        return new Promise<string>((resolve, reject) => child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`)))));
      }),
    );
    assert.equal(new Set(outputs).size, 1, 'one secret, whoever wrote it');
    assert.equal(outputs[0], keyedHash(loadRootSecret({ dataDir }).secrets.pepper, 'probe'));
  });
});
