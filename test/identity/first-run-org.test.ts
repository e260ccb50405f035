/**
 * First-run setup gives the new administrator an organization to act for: "Default" (slug
 * `default`), which they own — so their first client sign-in has an org, and they can manage it
 * through the admin API at once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { loadConfig } from '../../src/core/config.ts';
import { silentLogger } from '../../src/core/log.ts';
import { startPortcullis } from '../../src/server/app.ts';
import { UserAgent } from '../helpers/user-agent.ts';

it('the administrator created by the setup link owns the Default organization and can manage it', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-first-run-'));
  const running = await startPortcullis(loadConfig({ env: {}, cwd: dataDir, overrides: { port: 0, dataDir, logLevel: 'silent' } }), { log: silentLogger() });
  after(async () => {
    await running.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  assert.ok(running.setupLink);
  const ua = new UserAgent();
  const form = await ua.request(running.setupLink);
  const done = await ua.submit(form, '/setup', { email: 'boss@example.com', name: 'Boss', password: 'a long enough passphrase', confirm: 'a long enough passphrase' }, () => true);
  assert.equal(done.status, 303);

  const user = (await running.store.users.findByEmail('boss@example.com'))!;
  const orgs = await running.store.orgs.forUser(user.id);
  assert.deepEqual(orgs.map((o) => [o.slug, o.name, o.role]), [['default', 'Default', 'owner']]);
  const members = await ua.request(`${running.url}/admin/api/orgs/default/members`);
  assert.equal(members.status, 200);
  assert.deepEqual((JSON.parse(members.body) as { members: { email: string; role: string }[] }).members.map((m) => [m.email, m.role]), [['boss@example.com', 'owner']]);
});
