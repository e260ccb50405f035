/**
 * `portcullis admin reset-mfa --email`: from the server's machine, a person's second factors
 * (authenticator, recovery codes, passkeys) are removed and their sessions ended, with an audit
 * record naming the machine's user; an unknown address is refused (exit 1, user_not_found) and a
 * missing one is a usage error (exit 2).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openStore } from '../../src/store/open.ts';
import { json, oneLineError, runCli, tempDir } from './run-cli.ts';

const NOW = Math.floor(Date.now() / 1000);

describe('portcullis admin reset-mfa', () => {
  it('removes the factors and ends the sessions; audited', async () => {
    const dataDir = tempDir();
    const setup = await openStore({ dataDir });
    let userId: string;
    try {
      await setup.migrate();
      const user = await setup.users.create({ email: 'lost@example.com' });
      userId = user.id;
      await setup.mfa.putPendingTotp(user.id, 'sealed', NOW);
      await setup.mfa.confirmTotp(user.id, 1, NOW);
      await setup.mfa.replaceRecoveryCodes(user.id, ['h1', 'h2'], NOW);
      await setup.passkeys.add({ id: 'cred-1', userId: user.id, publicKey: 'pk', counter: 0, transports: [], backedUp: false, name: 'Key', createdAt: NOW, lastUsedAt: null });
      await setup.sessions.create({ id: 's1', userId: user.id, createdAt: NOW, expiresAt: NOW + 3600, lastSeenAt: NOW, authTime: NOW, amr: ['pwd', 'otp', 'mfa'], ip: null, userAgent: null });
    } finally {
      await setup.close();
    }
    const result = await runCli(['admin', 'reset-mfa', '--email', 'LOST@example.com', '--json'], { dataDir });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(json(result), { id: userId, email: 'lost@example.com', totp: true, recoveryCodes: 2, passkeys: 1, sessions: 1 });

    const store = await openStore({ dataDir });
    try {
      assert.equal(await store.mfa.findTotp(userId), undefined);
      assert.equal(await store.mfa.unusedRecoveryCodes(userId), 0);
      assert.deepEqual(await store.passkeys.forUser(userId), []);
      assert.deepEqual(await store.sessions.listForUser(userId), []);
      const [record] = await store.audit.list({ kind: 'admin.user.mfa_reset', subject: userId });
      assert.match(record?.actor ?? '', /^cli/);
    } finally {
      await store.close();
    }
  });

  it('an unknown address is refused (exit 1, user_not_found); no address is a usage error (exit 2); --help', async () => {
    const dataDir = tempDir();
    const unknown = await runCli(['admin', 'reset-mfa', '--email', 'nobody@example.com'], { dataDir });
    assert.equal(unknown.code, 1);
    assert.match(oneLineError(unknown), /user_not_found/);
    const missing = await runCli(['admin', 'reset-mfa'], { dataDir });
    assert.equal(missing.code, 2);
    oneLineError(missing);
    const help = await runCli(['admin', 'reset-mfa', '--help']);
    assert.equal(help.code, 0);
    assert.ok(help.stdout.startsWith('Usage: portcullis admin reset-mfa'));
  });
});
