/** The SQLite database holds password hashes and e-mail addresses: only its owner may read it. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openStore, sqlitePath } from '../../src/store/open.ts';

describe('the SQLite database file', () => {
  it('is created owner-only (0600) in an owner-only data directory (0700), WAL files included', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'portcullis-perm-'));
    const dataDir = join(parent, 'data');
    try {
      const store = await openStore({ dataDir });
      await store.migrate();
      await store.users.create({ email: 'perm@example.com' });
      assert.equal(statSync(dataDir).mode & 0o777, 0o700);
      const db = sqlitePath(dataDir);
      assert.equal(statSync(db).mode & 0o777, 0o600);
      assert.equal(statSync(`${db}-wal`).mode & 0o777, 0o600, 'the write-ahead log inherits the mode');
      await store.close();
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });
});
