/**
 * "Revoking takes effect at every gateway within a second": two Portcullis instances share one
 * database (SQLite always, PostgreSQL when PORTCULLIS_TEST_DATABASE_URL is set) and one issuer
 * URL, as behind a load balancer. The user signs in through the first; the second serves /mcp; a
 * revocation made at the first is refused by the second within a second, not at token expiry.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/core/config.ts';
import { hashPassword } from '../../src/core/crypto.ts';
import { silentLogger } from '../../src/core/log.ts';
import { startPortcullis, type Running } from '../../src/server/app.ts';
import { TEST_PASSWORD } from '../helpers/server.ts';
import { storesUnderTest } from '../helpers/stores.ts';
import { bearerParams, postMcp, revokeRefreshToken, signIn, toolsList } from './sign-in.ts';

for (const target of storesUnderTest()) {
  describe(`guard: revocation across instances (${target.name})`, () => {
    it('a grant revoked at one instance is refused at another within a second', async () => {
      const location = await target.location();
      const secretKey = randomBytes(32).toString('base64url');
      const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-pair-'));
      const running: Running[] = [];
      try {
        const start = async (publicUrl?: string) => {
          const config = loadConfig({ env: {}, cwd: dataDir, overrides: { port: 0, dataDir, logLevel: 'silent', secretKey, ...(publicUrl ? { publicUrl } : {}) } });
          const instance = await startPortcullis(config, { store: await location.open(), log: silentLogger(), quiet: true });
          running.push(instance);
          return instance;
        };
        const first = await start();
        // Same issuer and resource URL; only the port it listens on differs.
        const second = await start(first.url);
        const secondMcp = `http://127.0.0.1:${(second.server.address() as { port: number }).port}/mcp`;
        assert.equal(second.mcpUrl, first.mcpUrl);

        const user = await first.store.users.create({ email: 'grace@example.com', passwordHash: await hashPassword(TEST_PASSWORD) });
        // Tokens act for an organization (docs/design/identity.md): grace belongs to one.
        const org = await first.store.orgs.create({ slug: 'acme', name: 'Acme' });
        await first.store.orgs.addMember(org.id, user.id, 'admin', Math.floor(Date.now() / 1000));
        const tokens = await signIn({ url: first.url, mcpUrl: first.mcpUrl, email: user.email, password: TEST_PASSWORD });
        assert.equal((await postMcp(secondMcp, toolsList, { token: tokens.access_token })).status, 200, 'the other instance accepts the token');

        const revokedAt = Date.now();
        await revokeRefreshToken(first.url, tokens);
        let answer = await postMcp(secondMcp, toolsList, { token: tokens.access_token });
        while (answer.status === 200 && Date.now() - revokedAt < 1500) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          answer = await postMcp(secondMcp, toolsList, { token: tokens.access_token });
        }
        const took = Date.now() - revokedAt;
        assert.equal(answer.status, 401, answer.text);
        assert.equal(bearerParams(answer.headers.get('www-authenticate')).error, 'invalid_token');
        assert.ok(took < 1000, `the other instance refused the token only after ${took} ms`);
      } finally {
        for (const instance of running.reverse()) await instance.close();
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });
}
