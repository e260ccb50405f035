/**
 * Changes made through the admin API apply in EVERY process, without a restart: two servers
 * share one store (the same SQLite file, or one PostgreSQL schema when
 * PORTCULLIS_TEST_DATABASE_URL is set) and the root secret; an application created, a tool
 * approved and an application deleted on the first are served accordingly by the second within
 * the registry's polling interval (2 s).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/core/config.ts';
import { silentLogger } from '../../src/core/log.ts';
import { startPortcullis, type Running } from '../../src/server/app.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { databaseTargets, dropSchema, postgresUrl } from '../helpers/databases.ts';
import { adminClient, httpDefinition, mcpCall, mint, rpcErrorCode, startToyMcp, toolNames, waitFor, type AdminClient, type ToyMcp } from './support.ts';

interface Pair {
  first: TestServer;
  second: Running;
  stop(): Promise<void>;
}


/** Two servers on one store: the second uses the first's data directory (root secret) and database. */
async function startPair(dialect: 'sqlite' | 'postgres'): Promise<Pair> {
  const schema = dialect === 'postgres' ? `pct_adm_${randomBytes(5).toString('hex')}` : undefined;
  const databaseUrl = dialect === 'postgres' ? postgresUrl() : undefined;
  const first = await startTestServer(databaseUrl ? { databaseUrl } : {}, { schema });
  let second: Running | undefined;
  try {
    const config = loadConfig({ env: {}, cwd: first.config.dataDir, overrides: { port: 0, dataDir: first.config.dataDir, logLevel: 'silent', ...(databaseUrl ? { databaseUrl } : {}) } });
    second = await startPortcullis(config, { log: silentLogger(), quiet: true, schema });
  } catch (err) {
    await first.stop();
    if (schema) await dropSchema(databaseUrl!, schema);
    throw err;
  }
  return {
    first,
    second,
    async stop() {
      await second.close();
      await first.stop();
      if (schema) await dropSchema(databaseUrl!, schema);
    },
  };
}

for (const { dialect, skip } of databaseTargets()) {
  describe(`admin changes reach every process (${dialect})`, { skip }, () => {
    let toy: ToyMcp;
    let pair: Pair;
    let admin: AdminClient;
    let url: string;
    let token: string;

    before(async () => {
      toy = await startToyMcp();
      pair = await startPair(dialect);
      admin = await adminClient(pair.first);
      url = `${pair.second.url}/mcp/shared`;
    });
    after(async () => {
      await pair?.stop();
      await toy?.stop();
    });

    it('serves an application created on the other process', async () => {
      assert.equal((await mcpCall(url, undefined, 'tools/list')).status, 404);
      assert.equal((await admin.call('POST', '/applications', httpDefinition('shared', toy.url))).status, 201);
      await waitFor(async () => (await mcpCall(url, undefined, 'tools/list')).status === 401, 'the second process to serve the new application');
      // And its authorization server knows the new resource (tokens can be asked for it).
      const prm = await fetch(`${pair.second.url}/.well-known/oauth-protected-resource/mcp/shared`);
      assert.equal(prm.status, 200);
      assert.equal(((await prm.json()) as { resource: string }).resource, url);
    });

    it('applies a tool approval made on the other process', async () => {
      assert.equal((await admin.call('POST', '/applications/shared/refresh')).status, 200);
      token = await mint(pair.second, url, ['shared:read', 'shared:write', 'shared:delete']);
      await waitFor(async () => rpcErrorCode(await mcpCall(url, token, 'tools/call', { name: 'lookup', arguments: {} })) === 'policy_denied', 'the unreviewed tool to be refused');
      assert.equal(toy.received('tools/call').length, 0);

      assert.equal((await admin.call('POST', '/applications/shared/tools/lookup/approve')).status, 200);
      const result = await waitFor(async () => {
        const call = await mcpCall(url, token, 'tools/call', { name: 'lookup', arguments: {} });
        return call.message?.result ? call : undefined;
      }, 'the approval to reach the second process');
      assert.equal((result.message?.result as { content: { text: string }[] }).content[0]?.text, 'lookup done');
      assert.deepEqual(toolNames(await mcpCall(url, token, 'tools/list')), ['lookup']);
    });

    it('stops serving an application deleted on the other process', async () => {
      assert.equal((await admin.call('DELETE', '/applications/shared')).status, 204);
      await waitFor(async () => (await mcpCall(url, token, 'tools/list')).status === 404, 'the second process to stop serving it');
    });
  });
}
