/**
 * The configuration page's rows (console/server-pages/config-origins.ts): each value's source —
 * an environment variable over the file over the defaults — and no credential in what is shown:
 * the root secret, passwords in URLs (RFC 3986 §3.2.1), an upstream's headers, webhook secrets.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/core/config.ts';
import { configurationRows } from '../../src/console/server-pages/config-origins.ts';

describe('configuration rows', () => {
  it('say where each value came from and mask every credential', () => {
    const dir = mkdtempSync(join(tmpdir(), 'config-rows-'));
    try {
      const file = join(dir, 'portcullis.config.json');
      writeFileSync(file, JSON.stringify({
        databaseUrl: 'postgres://app:db-password-1@db.example.com/portcullis',
        applications: [{ slug: 'notes', name: 'Notes', upstream: { url: 'https://notes.example.com/mcp', headers: { authorization: 'Bearer upstream-secret-2' } } }],
        audit: { webhooks: [{ url: 'https://hooks.example.com/in', secret: 'webhook-secret-3-long-enough-to-pass' }] },
      }));
      const config = loadConfig({ cwd: dir, env: { PORTCULLIS_CONFIG: file, PORTCULLIS_SECRET_KEY: 'root-secret-4'.padEnd(44, 'x'), PORTCULLIS_PORT: '8123' } });
      const rows = configurationRows(config);
      const row = (path: string) => rows.find((r) => r.path === path);
      const shown = JSON.stringify(rows);
      for (const secret of ['db-password-1', 'upstream-secret-2', 'webhook-secret-3', 'root-secret-4']) assert.ok(!shown.includes(secret), secret);
      assert.equal(row('databaseUrl')?.value, 'postgres://app:****@db.example.com/portcullis', 'the host stays readable');
      assert.equal(row('databaseUrl')?.origin, file);
      assert.equal(row('secretKey')?.origin, 'environment (PORTCULLIS_SECRET_KEY)');
      assert.equal(row('port')?.origin, 'environment (PORTCULLIS_PORT)');
      assert.equal(row('port')?.value, '8123');
      assert.equal(row('applications.0.upstream.headers.authorization')?.masked, true);
      assert.equal(row('audit.webhooks.0.secret')?.masked, true);
      assert.equal(row('tokens.accessTokenTtl')?.origin, 'default');
      assert.equal(row('tokens.accessTokenTtl')?.masked, false);
      assert.equal(row('publicUrl')?.origin, 'derived (from port)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
