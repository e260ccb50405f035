/**
 * The admin API takes a tool's `stepUp: { maxAge, mfa: true }` through the same schema as the
 * configuration file (core/application.ts): accepted and kept as given, and a non-boolean `mfa`
 * refused with the field's path.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { adminClient, httpDefinition, startToyMcp, type AdminClient, type ToyMcp } from './support.ts';

describe('admin API: step-up with a second factor', () => {
  let toy: ToyMcp;
  let server: TestServer;
  let admin: AdminClient;

  before(async () => {
    toy = await startToyMcp();
    server = await startTestServer();
    admin = await adminClient(server);
  });
  after(async () => {
    await server?.stop();
    await toy?.stop();
  });

  it('accepts mfa: true and gives it back', async () => {
    const created = await admin.call('POST', '/applications', httpDefinition('vault', toy.url, { tools: { wipe: { stepUp: { maxAge: '5m', mfa: true } } } }));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const read = await admin.call('GET', '/applications/vault');
    assert.equal(read.status, 200);
    assert.match(JSON.stringify(read.body), /"stepUp":\{"maxAge":"5m","mfa":true\}/);
  });

  it('refuses mfa that is not a boolean, naming the field', async () => {
    const wrong = await admin.call('POST', '/applications', httpDefinition('vault2', toy.url, { tools: { wipe: { stepUp: { maxAge: 60, mfa: 'yes' } } } }));
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error, 'invalid_request');
    assert.deepEqual(((wrong.body.errors as { path: string }[]) ?? []).map((e) => e.path), ['tools.wipe.stepUp.mfa']);
  });
});
