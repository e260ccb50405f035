/**
 * "Revoking takes effect at every gateway within a second": two Portcullis instances share one
 * database (SQLite always, PostgreSQL when PORTCULLIS_TEST_DATABASE_URL is set) and one issuer
 * URL, as behind a load balancer. The user signs in through the first; the second serves /mcp; a
 * revocation made at the first is refused by the second within a second, not at token expiry —
 * also when both record revocations at the same moment.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { clientToRecord } from '../../src/authz/clients.ts';
import { loadConfig } from '../../src/core/config.ts';
import { hashPassword, randomToken } from '../../src/core/crypto.ts';
import { loadRootSecret } from '../../src/core/secrets.ts';
import { silentLogger } from '../../src/core/log.ts';
import { startPortcullis, type Running } from '../../src/server/app.ts';
import { postForm, type ClientCredentials } from '../helpers/authz.ts';
import { TEST_PASSWORD } from '../helpers/server.ts';
import { storesUnderTest } from '../helpers/stores.ts';
import { bearerParams, postMcp, revokeRefreshToken, signIn, toolsList } from './sign-in.ts';

/** Two instances on one database and one issuer URL, as behind a load balancer. */
async function startPair(target: ReturnType<typeof storesUnderTest>[number]): Promise<{ first: Running; second: Running; close(): Promise<void> }> {
  const location = await target.location();
  const secretKey = randomBytes(32).toString('base64url');
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-pair-'));
  const running: Running[] = [];
  const start = async (publicUrl?: string) => {
    const config = loadConfig({ env: {}, cwd: dataDir, overrides: { port: 0, dataDir, logLevel: 'silent', secretKey, ...(publicUrl ? { publicUrl } : {}) } });
    const instance = await startPortcullis(config, { store: await location.open(), log: silentLogger(), quiet: true });
    running.push(instance);
    return instance;
  };
  const close = async () => {
    for (const instance of running.reverse()) await instance.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const first = await start();
    const second = await start(first.url);
    return { first, second, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The address an instance listens on (its public URL names the first instance's port). */
const listening = (instance: Running) => `http://127.0.0.1:${(instance.server.address() as { port: number }).port}`;

/** A pre-registered confidential client allowed client_credentials, as an administrator adds one. */
async function machineClient(instance: Running): Promise<ClientCredentials> {
  const clientId = `nightly_${randomBytes(4).toString('hex')}`;
  const secret = randomToken(32);
  const { pepper } = loadRootSecret({ secretKey: instance.config.secretKey, dataDir: instance.config.dataDir }).secrets;
  const metadata = { client_id: clientId, client_secret: secret, grant_types: ['client_credentials'], response_types: [], redirect_uris: [], token_endpoint_auth_method: 'client_secret_basic' as const };
  await instance.store.clients.upsert(clientToRecord(metadata, pepper, 'static'));
  return { client_id: clientId, client_secret: secret, token_endpoint_auth_method: 'client_secret_basic' };
}

for (const target of storesUnderTest()) {
  describe(`guard: revocation across instances (${target.name})`, { skip: target.skip }, () => {
    it('revocations made at both instances at once are all refused by both within a second', async () => {
      // The defect: an instance that recorded a revocation jumped its read position to that event,
      // past events the other instance had just recorded and it had not read yet — losing them.
      const pair = await startPair(target);
      try {
        const { first, second } = pair;
        const client = await machineClient(first);
        const issue = async (at: Running) => {
          const res = await postForm(`${listening(at)}/oauth/token`, { grant_type: 'client_credentials', resource: first.mcpUrl }, client);
          assert.equal(res.status, 200, JSON.stringify(res.body));
          return String(res.body.access_token);
        };
        const revokeAt = async (at: Running, token: string) => {
          const res = await postForm(`${listening(at)}/oauth/revoke`, { token, token_type_hint: 'access_token' }, client);
          assert.equal(res.status, 200, JSON.stringify(res.body));
        };
        const status = async (at: Running, token: string) => (await postMcp(`${listening(at)}/mcp`, toolsList, { token })).status;

        for (let round = 0; round < 12; round++) {
          const tokens = [await issue(first), await issue(second)];
          for (const instance of [first, second]) for (const token of tokens) assert.equal(await status(instance, token), 200, `round ${round}: accepted before revocation`);
          const revokedAt = Date.now();
          await Promise.all([revokeAt(second, tokens[1]!), revokeAt(first, tokens[0]!)]);
          for (const instance of [first, second]) {
            for (const token of tokens) {
              let answer = await status(instance, token);
              while (answer === 200 && Date.now() - revokedAt < 1000) {
                await new Promise((resolve) => setTimeout(resolve, 20));
                answer = await status(instance, token);
              }
              const which = `round ${round}: the token revoked at the ${token === tokens[0] ? 'first' : 'second'} instance, at the ${instance === first ? 'first' : 'second'}`;
              assert.equal(answer, 401, `${which} was still accepted ${Date.now() - revokedAt} ms after its revocation`);
            }
          }
        }
      } finally {
        await pair.close();
      }
    });

    it('a grant revoked at one instance is refused at another within a second', async () => {
      const pair = await startPair(target);
      try {
        const { first, second } = pair;
        // Same issuer and resource URL; only the port it listens on differs.
        const secondMcp = `${listening(second)}/mcp`;
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
        await pair.close();
      }
    });
  });
}
