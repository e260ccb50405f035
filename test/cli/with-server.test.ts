/**
 * The administrative commands against a server that is running on the same store — SQLite in a
 * shared data directory always, and PostgreSQL in a fresh schema whenever
 * PORTCULLIS_TEST_DATABASE_URL is set — proving that CLI and server agree on the store, the root
 * secret (client-secret hashes, sealed signing keys) and the key ring:
 * - `clients add` makes clients the server accepts (client_credentials, code + PKCE, introspection);
 * - `clients list` never shows a secret, `clients remove` takes effect;
 * - `keys rotate` is picked up without a restart, and tokens signed before it keep working.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import {
  assertOAuthError,
  assertTokens,
  endpoint,
  introspect,
  LOOPBACK_REDIRECT,
  mcpStatus,
  obtainCode,
  postForm,
  redeemCode,
  refresh,
  signIn,
} from '../helpers/authz.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { json, oneLineError, runCli, type CliResult, cliTargets } from './run-cli.ts';


interface AddedClient {
  client_id: string;
  client_secret?: string;
  token_endpoint_auth_method: string;
  grant_types: string[];
  redirect_uris: string[];
  resources: string[];
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

for (const target of cliTargets()) {
  describe(`portcullis clients / keys with a running server (${target.dialect})`, { skip: target.skip }, () => {
    let server: TestServer;
    let cliEnv: Record<string, string>;
    const cli = (args: string[], stdin?: string): Promise<CliResult> => runCli(args, { env: cliEnv, stdin });
    const addClient = async (args: string[]): Promise<AddedClient> => {
      const result = await cli(['clients', 'add', ...args, '--json']);
      assert.equal(result.code, 0, result.stderr);
      return json<AddedClient>(result);
    };

    before(async () => {
      ({ server, cliEnv } = await target.start());
    });
    after(() => server?.stop());

    it('clients add --confidential: the secret is shown once and works for client_credentials; a wrong one is invalid_client', async () => {
      const client = await addClient(['--name', 'Nightly report', '--confidential', '--grant', 'client_credentials']);
      assert.equal(client.token_endpoint_auth_method, 'client_secret_basic');
      assert.ok(client.client_secret && client.client_secret.length >= 43, 'a 256-bit secret');

      const tokens = assertTokens(
        await postForm(endpoint(server, 'token'), { grant_type: 'client_credentials', resource: server.mcpUrl, scope: 'demo:read' }, client),
      );
      assert.equal(tokens.scope, 'demo:read');
      assert.ok(!('refresh_token' in tokens));

      const wrong = await postForm(endpoint(server, 'token'), { grant_type: 'client_credentials', resource: server.mcpUrl }, { ...client, client_secret: `${client.client_secret}x` });
      assertOAuthError(wrong, 'invalid_client', 401);
      // Only the keyed hash is stored: the stored value is not the secret, and presenting it fails.
      const stored = (await server.store.clients.find(client.client_id))!.metadata.client_secret as string;
      assert.notEqual(stored, client.client_secret);
      assert.ok(!stored.includes(client.client_secret!));
      assertOAuthError(await postForm(endpoint(server, 'token'), { grant_type: 'client_credentials' }, { ...client, client_secret: stored }), 'invalid_client', 401);
    });

    it('clients add --public: a user signs in through it with code + PKCE (loopback redirect, any port) and calls /mcp', async () => {
      const client = await addClient(['--name', 'Desktop notes', '--public', '--redirect-uri', LOOPBACK_REDIRECT]);
      assert.equal(client.token_endpoint_auth_method, 'none');
      assert.equal(client.client_secret, undefined);
      const tokens = await signIn(server, client);
      assert.ok(tokens.refresh_token, 'interactive clients get refresh tokens');
      assert.equal(await mcpStatus(server, tokens.access_token), 200);
    });

    it('clients add --resource-server: that client may introspect tokens for its resource; another confidential client may not', async () => {
      const [app, rs, other] = await Promise.all([
        addClient(['--name', 'Notes app', '--public', '--redirect-uri', LOOPBACK_REDIRECT]),
        addClient(['--name', 'Notes API', '--confidential', '--grant', 'client_credentials', '--resource-server', server.mcpUrl]),
        addClient(['--name', 'Other job', '--grant', 'client_credentials']),
      ]);
      assert.deepEqual(rs.resources, [server.mcpUrl]);
      const { access_token } = await signIn(server, app);

      const seen = await introspect(server, rs, access_token);
      assert.equal(seen.status, 200);
      assert.equal(seen.body.active, true);
      assert.equal(seen.body.client_id, app.client_id);
      assert.equal(seen.body.sub, server.user.id);

      const unseen = await introspect(server, other, access_token);
      assert.equal(unseen.status, 200);
      assert.deepEqual(unseen.body, { active: false });
    });

    it('clients list shows every client with its type and grants, and never a secret or its hash', async () => {
      const confidential = await addClient(['--name', 'Listed job', '--grant', 'client_credentials']);
      const result = await cli(['clients', 'list', '--json']);
      assert.equal(result.code, 0, result.stderr);
      const listed = json<(AddedClient & { kind: string; type: string; client_name: string })[]>(result);
      const entry = listed.find((c) => c.client_id === confidential.client_id);
      assert.ok(entry);
      assert.equal(entry.kind, 'static');
      assert.equal(entry.type, 'confidential');
      assert.equal(entry.client_name, 'Listed job');
      assert.deepEqual(entry.grant_types, ['client_credentials']);
      const table = await cli(['clients', 'list']);
      assert.equal(table.code, 0);
      assert.ok(table.stdout.includes(confidential.client_id));
      const hashes = (await server.store.clients.list()).map((c) => c.metadata.client_secret).filter((s): s is string => typeof s === 'string');
      assert.ok(hashes.length >= 1);
      for (const out of [result.stdout, table.stdout]) {
        assert.ok(!out.includes(confidential.client_secret!), 'no secret');
        for (const hash of hashes) assert.ok(!out.includes(hash.replace(/^hmac:/, '')), 'no secret hash');
        assert.ok(!out.includes('"client_secret"'));
      }
    });

    it('clients remove: the client can no longer get tokens; removing an unknown client is exit 1', async () => {
      const client = await addClient(['--name', 'Short-lived', '--grant', 'client_credentials']);
      assertTokens(await postForm(endpoint(server, 'token'), { grant_type: 'client_credentials', scope: 'demo:read' }, client));
      const removed = await cli(['clients', 'remove', client.client_id]);
      assert.equal(removed.code, 0, removed.stderr);
      assertOAuthError(await postForm(endpoint(server, 'token'), { grant_type: 'client_credentials' }, client), 'invalid_client', 401);
      const again = await cli(['clients', 'remove', client.client_id]);
      assert.equal(again.code, 1);
      oneLineError(again);
    });

    it('clients add refuses a client_id that exists (exit 1)', async () => {
      const first = await cli(['clients', 'add', '--name', 'One', '--id', 'reporting-bot', '--grant', 'client_credentials']);
      assert.equal(first.code, 0, first.stderr);
      const second = await cli(['clients', 'add', '--name', 'Two', '--id', 'reporting-bot', '--grant', 'client_credentials']);
      assert.equal(second.code, 1);
      oneLineError(second);
    });

    it('keys rotate: the running server signs with the new key within seconds, publishes both, and old tokens keep working', async () => {
      const app = await addClient(['--name', 'Rotation witness', '--public', '--redirect-uri', LOOPBACK_REDIRECT]);
      const before = await signIn(server, app);
      const oldKid = decodeProtectedHeader(before.access_token).kid;
      assert.ok(oldKid);

      const rotated = await cli(['keys', 'rotate', '--json']);
      assert.equal(rotated.code, 0, rotated.stderr);
      const { kid: newKid, retired } = json<{ kid: string; retired: string[] }>(rotated);
      assert.notEqual(newKid, oldKid);
      assert.deepEqual(retired, [oldKid]);

      // No restart: the server polls the key ring and republishes.
      const kids = await until('the JWKS to list the new key', async () => {
        const jwks = (await (await fetch(endpoint(server, 'jwks'))).json()) as { keys: { kid: string }[] };
        const listed = jwks.keys.map((k) => k.kid);
        return listed.includes(newKid) ? listed : undefined;
      });
      assert.ok(kids.includes(oldKid), 'the retired key stays published for verification');
      assert.equal(kids.length, 2);

      assert.equal(await mcpStatus(server, before.access_token), 200, 'a token signed before the rotation still works');
      const after = assertTokens(await refresh(server, app, before.refresh_token!));
      assert.equal(decodeProtectedHeader(after.access_token).kid, newKid, 'new tokens carry the new kid');
      assert.equal(await mcpStatus(server, after.access_token), 200);

      const listed = await cli(['keys', 'list', '--json']);
      const keys = json<{ kid: string; status: string }[]>(listed);
      assert.deepEqual(
        keys.map((k) => [k.kid, k.status]).sort(),
        [
          [newKid, 'active'],
          [oldKid, 'retired'],
        ].sort(),
      );
    });

    it('keys retire: a retired key leaves the JWKS and a token it signed is refused at the gateway; the signing key and unknown kids are exit 1', async () => {
      const app = await addClient(['--name', 'Retire witness', '--public', '--redirect-uri', LOOPBACK_REDIRECT]);
      const before = await signIn(server, app);
      const oldKid = decodeProtectedHeader(before.access_token).kid!;
      assert.equal(await mcpStatus(server, before.access_token), 200);
      const { kid: newKid } = json<{ kid: string }>(await cli(['keys', 'rotate', '--json']));

      const refused = await cli(['keys', 'retire', newKid]);
      assert.equal(refused.code, 1, 'the key that signs cannot be retired: rotate first');
      oneLineError(refused);
      assert.equal((await cli(['keys', 'retire', 'no-such-kid'])).code, 1);

      const retired = await cli(['keys', 'retire', oldKid]);
      assert.equal(retired.code, 0, retired.stderr);
      await until('the JWKS to drop the retired key', async () => {
        const jwks = (await (await fetch(endpoint(server, 'jwks'))).json()) as { keys: { kid: string }[] };
        return jwks.keys.some((k) => k.kid === oldKid) ? undefined : true;
      });
      assert.equal(await mcpStatus(server, before.access_token), 401, 'a token signed by the retired key no longer verifies');
      const records = await server.store.audit.list({ kind: 'signing_key.retired' });
      assert.deepEqual(records.map((r) => r.details?.kid), [oldKid]);
    });
  });
}

describe('CLI-made users and clients before the first start', () => {
  let server: TestServer | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-cli-first-'));
  after(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a user and clients created on a fresh data directory work once the server starts on it (same root secret)', async () => {
    const password = 'the first administrator';
    const user = await runCli(['admin', 'create-user', '--email', 'first@example.com', '--admin', '--password-stdin'], { dataDir, stdin: password });
    assert.equal(user.code, 0, user.stderr);
    const [app, job] = (
      await Promise.all([
        runCli(['clients', 'add', '--name', 'App', '--redirect-uri', LOOPBACK_REDIRECT, '--json'], { dataDir }),
        runCli(['clients', 'add', '--name', 'Job', '--grant', 'client_credentials', '--json'], { dataDir }),
      ])
    ).map((result) => json<AddedClient>(result));

    server = await startTestServer({ dataDir });
    const code = await obtainCode(server, app, { email: 'first@example.com', password });
    const tokens = assertTokens(await redeemCode(server, app, code));
    assert.equal(await mcpStatus(server, tokens.access_token), 200);
    assertTokens(await postForm(endpoint(server, 'token'), { grant_type: 'client_credentials', scope: 'demo:read' }, job));
  });
});
