/** The request-size limit is configuration (gateway.maxRequestBytes), and above it nothing reaches the upstream. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RpcError } from '../../../src/gateway/jsonrpc.ts';
import { appUrl, approveAll, exchange, httpApp, startFixtureMcp, startGateway, tokenFor, type FixtureMcp } from '../../helpers/gateway.ts';
import type { TestServer } from '../../helpers/server.ts';

describe('gateway.maxRequestBytes', () => {
  let fixture: FixtureMcp;
  let server: TestServer;
  let token: string;

  before(async () => {
    fixture = await startFixtureMcp();
    server = await startGateway([httpApp('small', fixture.url)], { gateway: { maxRequestBytes: 2048 } });
    await approveAll(server, 'small');
    token = (await tokenFor(server, 'small', { scope: 'small:read small:write small:delete' })).access_token;
  });
  after(async () => {
    await server?.stop();
    await fixture?.stop();
  });

  it('refuses a body over the configured limit with 413, and accepts one under it', async () => {
    const call = (text: string) => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text } } });
    const before = fixture.requests.length;
    const big = await exchange(appUrl(server, 'small'), call('x'.repeat(3000)), { token, protocolVersion: '2025-06-18' });
    assert.equal(big.status, 413);
    assert.equal(big.messages[0].error.code, RpcError.INVALID_REQUEST);
    assert.equal(fixture.requests.length, before, 'the upstream never saw it');
    const small = await exchange(appUrl(server, 'small'), call('x'.repeat(100)), { token, protocolVersion: '2025-06-18' });
    assert.equal(small.status, 200);
  });
});
