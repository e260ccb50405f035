/**
 * The MCP conformance suite (@modelcontextprotocol/conformance) run against a started Portcullis:
 * every authorization-server scenario it lists (`conformance list --authorization`), for a
 * pre-registered public client, once naming the MCP server as `resource` (RFC 8707) and once
 * without it. The suite sends no `scope`; the browser step (sign in + approve) is driven by the
 * HTTP user agent. Pass means: exit code 0, a checks.json for every scenario, no FAILURE, each
 * scenario's main check SUCCESS (not SKIPPED). WARNINGs are printed as test diagnostics.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { decodeJwt } from 'jose';
import { clientToRecord } from '../../src/authz/clients.ts';
import { loadRootSecret } from '../../src/core/secrets.ts';
import { authorizeInBrowser } from '../helpers/oauth-flow.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { freePort, listAuthorizationScenarios, runAuthorizationScenarios, type ConformanceRun } from './runner.ts';

const CLIENT_ID = 'mcp-conformance';

/** The check that says each scenario did its job (a SKIPPED one would otherwise pass unnoticed). */
const MAIN_CHECK: Record<string, string> = {
  'authorization-server-metadata-endpoint': 'authorization-server-metadata',
  'authorization-code-grant': 'authorization-code-grant',
};

describe('MCP conformance suite: authorization-server scenarios', () => {
  let server: TestServer;
  let callbackPort: number;
  let scenarios: string[];
  const outputRoot = mkdtempSync(join(tmpdir(), 'portcullis-conformance-'));

  before(async () => {
    server = await startTestServer();
    callbackPort = await freePort();
    const { pepper } = loadRootSecret({ secretKey: server.config.secretKey, dataDir: server.config.dataDir }).secrets;
    await server.store.clients.upsert(
      clientToRecord(
        {
          client_id: CLIENT_ID,
          client_name: 'MCP conformance suite',
          redirect_uris: [`http://127.0.0.1:${callbackPort}/callback`],
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
        },
        pepper,
        'static',
      ),
    );
    scenarios = await listAuthorizationScenarios();
  });
  after(async () => {
    await server?.stop();
    rmSync(outputRoot, { recursive: true, force: true });
  });

  async function runSuite(t: TestContext, resource: string | undefined): Promise<ConformanceRun> {
    const authorizationUrls: string[] = [];
    const outputDir = join(outputRoot, resource ? 'with-resource' : 'without-resource');
    const run = await runAuthorizationScenarios({
      issuer: server.url,
      clientId: CLIENT_ID,
      port: callbackPort,
      resource,
      outputDir,
      async onAuthorizationUrl(url) {
        authorizationUrls.push(url);
        const { callback } = await authorizeInBrowser(url, {
          email: server.user.email,
          password: server.password,
          redirectUri: `http://127.0.0.1:${callbackPort}/callback`,
        });
        return callback;
      },
    });
    const report = `exit ${run.exitCode}\n${run.stdout}\n${run.stderr}`;
    assert.equal(authorizationUrls.length, 1, `the suite asked for one browser sign-in:\n${report}`);
    assert.equal(new URL(authorizationUrls[0]!).searchParams.get('resource'), resource ?? null);

    assert.deepEqual(run.results.map((r) => r.scenario).sort(), [...scenarios].sort(), `a checks.json for every scenario:\n${report}`);
    for (const { scenario, checks } of run.results) {
      t.diagnostic(`${scenario}: ${checks.map((c) => `${c.id}=${c.status}`).join(', ')}`);
      for (const check of checks.filter((c) => c.status === 'WARNING')) {
        t.diagnostic(`WARNING ${scenario} / ${check.id}: ${check.errorMessage ?? check.description}`);
      }
      const failures = checks.filter((c) => c.status === 'FAILURE').map((c) => `${c.id}: ${c.errorMessage}`);
      assert.deepEqual(failures, [], `${scenario} has failing checks:\n${report}`);
      const main = MAIN_CHECK[scenario];
      if (main) assert.equal(checks.find((c) => c.id === main)?.status, 'SUCCESS', `${scenario}: ${main} must succeed, not be skipped`);
      else assert.ok(checks.some((c) => c.status === 'SUCCESS'), `${scenario} (new in the suite) has no successful check`);
    }
    assert.equal(run.exitCode, 0, report);
    return run;
  }

  function tokenResponse(run: ConformanceRun): Record<string, unknown> {
    const grant = run.results.find((r) => r.scenario === 'authorization-code-grant')!;
    return grant.checks.find((c) => c.id === 'authorization-code-grant')!.details!.body as Record<string, unknown>;
  }

  it('passes every scenario when the client names the MCP server as resource (RFC 8707)', async (t) => {
    const run = await runSuite(t, server.mcpUrl);
    // The suite sends no scope: the MCP server's default scopes are granted, and said so.
    assert.equal(tokenResponse(run).scope, 'demo:read demo:write');
    const metadata = run.results.find((r) => r.scenario === 'authorization-server-metadata-endpoint')!;
    const body = metadata.checks.find((c) => c.id === 'authorization-server-metadata')!.details!.body as Record<string, unknown>;
    assert.equal(body.issuer, server.url);
  });

  it('passes every scenario when the client names no resource (the default MCP server is the audience)', async (t) => {
    const run = await runSuite(t, undefined);
    assert.equal(tokenResponse(run).scope, 'demo:read demo:write');
    assert.equal(String(tokenResponse(run).token_type).toLowerCase(), 'bearer');
  });

  it('the code it was issued is single-use, and its tokens are for the MCP server', async () => {
    // The suite redacts tokens in checks.json; this re-checks the audience on a grant of our own
    // through the same pre-registered client and redirect URI.
    const { callback } = await authorizeInBrowser(
      `${server.url}/oauth/authorize?${new URLSearchParams({
        response_type: 'code',
        client_id: CLIENT_ID,
        redirect_uri: `http://127.0.0.1:${callbackPort}/callback`,
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
        state: 'xyz',
      })}`,
      { email: server.user.email, password: server.password, redirectUri: `http://127.0.0.1:${callbackPort}/callback` },
    );
    const code = callback.searchParams.get('code')!;
    const exchange = () =>
      fetch(`${server.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          client_id: CLIENT_ID,
          redirect_uri: `http://127.0.0.1:${callbackPort}/callback`,
          code_verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
        }),
      });
    const first = await exchange();
    assert.equal(first.status, 200);
    const tokens = (await first.json()) as { access_token: string };
    assert.equal(decodeJwt(tokens.access_token).aud, server.mcpUrl);
    const second = await exchange();
    assert.ok(second.status < 500);
    assert.equal(((await second.json()) as { error: string }).error, 'invalid_grant');
  });
});
