/**
 * `portcullis admin create-user` puts people in an organization: `--org` names an existing one
 * (an unknown slug is refused with `org_not_found` and leaves no user behind — organizations are
 * not created by a typo), `--role` their role; without `--org`, the Default organization, created
 * on first use with the first user as its owner, as first-run setup does.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openStore } from '../../src/store/open.ts';
import { json, oneLineError, runCli, tempDir } from './run-cli.ts';

const PASSWORD = 'a long enough passphrase';

describe('portcullis admin create-user --org --role', () => {
  it('the first user lands in a new Default organization as its owner; the next ones as members', async () => {
    const dataDir = tempDir();
    const first = await runCli(['admin', 'create-user', '--email', 'first@example.com', '--password-stdin', '--json'], { dataDir, stdin: PASSWORD });
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual([json<{ org: string }>(first).org, json<{ role: string }>(first).role], ['default', 'owner']);
    const second = await runCli(['admin', 'create-user', '--email', 'second@example.com', '--password-stdin', '--json'], { dataDir, stdin: PASSWORD });
    assert.equal(json<{ role: string }>(second).role, 'member');
    const third = await runCli(['admin', 'create-user', '--email', 'third@example.com', '--org', 'default', '--role', 'admin', '--password-stdin'], { dataDir, stdin: PASSWORD });
    assert.equal(third.code, 0, third.stderr);

    const store = await openStore({ dataDir });
    try {
      const org = (await store.orgs.bySlug('default'))!;
      assert.equal(org.name, 'Default');
      const roles = await Promise.all(['first', 'second', 'third'].map(async (n) => (await store.orgs.member(org.id, (await store.users.findByEmail(`${n}@example.com`))!.id))?.role));
      assert.deepEqual(roles, ['owner', 'member', 'admin']);
      assert.equal((await store.orgs.list()).length, 1);
    } finally {
      await store.close();
    }
  });

  it('an unknown --org is refused (exit 1, org_not_found) and creates neither the org nor the user; a bad --role is a usage error', async () => {
    const dataDir = tempDir();
    const unknown = await runCli(['admin', 'create-user', '--email', 'x@example.com', '--org', 'nope', '--password-stdin'], { dataDir, stdin: PASSWORD });
    assert.equal(unknown.code, 1);
    assert.match(oneLineError(unknown), /org_not_found/);
    const badRole = await runCli(['admin', 'create-user', '--email', 'y@example.com', '--role', 'emperor', '--password-stdin'], { dataDir, stdin: PASSWORD });
    assert.equal(badRole.code, 2);
    oneLineError(badRole);
    const store = await openStore({ dataDir });
    try {
      assert.equal(await store.users.count(), 0);
      assert.equal(await store.orgs.bySlug('nope'), undefined);
    } finally {
      await store.close();
    }
  });
});
