/**
 * The doctor's diagnoses for the cases the browser story (test/browser/connection-doctor.test.ts)
 * does not produce with a real client — a 403, a refused code redemption, /authorize without PKCE —
 * and what must NOT be diagnosed: an expiry the client did refresh after, a registration that did
 * reach /authorize, one registration still within its grace period. Then the recorder: queued until
 * its batch is written, and a store that refuses a batch costs the caller nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diagnose } from '../../src/audit/doctor/diagnoses.ts';
import { ConnectionRecorder } from '../../src/audit/doctor/recorder.ts';
import type { ConnectionEvent } from '../../src/store/connection-events.ts';
import { silentLogger } from '../../src/core/log.ts';
import { storesUnderTest } from '../helpers/stores.ts';

const NOW = 1_800_000_000;
let id = 0;
const ev = (at: number, clientId: string, kind: string, ok: boolean, detail: Record<string, unknown> = {}): ConnectionEvent => ({ id: ++id, at, clientId, userId: null, kind, ok, detail });
const codes = (events: ConnectionEvent[], now = NOW) => diagnose(events, now).map((d) => `${d.clientId}:${d.code}`).sort();

describe('connection doctor diagnoses', () => {
  it('a 403, a refused code redemption and /authorize without PKCE', () => {
    assert.deepEqual(codes([
      ev(NOW, 'c', 'gateway', false, { status: 403, code: 'insufficient_scope', app: 'notes' }),
      ev(NOW, 'c', 'token', false, { grantType: 'authorization_code', error: 'invalid_grant' }),
      ev(NOW, 'd', 'authorize', false, { resource: 'https://x/mcp', pkce: false, redirectMatched: true }),
    ]), ['c:forbidden', 'c:token-failed', 'd:no-pkce']);
  });

  it('an unknown client at /authorize, and a code never redeemed after sign-in and consent', () => {
    assert.deepEqual(codes([
      ev(NOW, 'gone', 'authorize', false, { known: false, resource: 'https://x/mcp', pkce: true, redirectMatched: null }),
      ev(NOW, 'deaf', 'authorized', true),
      ev(NOW, 'fine', 'authorized', true),
      ev(NOW + 1, 'fine', 'token', true, { grantType: 'authorization_code' }),
    ], NOW + 3600), ['deaf:code-not-redeemed', 'gone:unknown-client']);
  });

  it('nothing for an expiry followed by a refresh, for a registration that reached /authorize, or one still young', () => {
    assert.deepEqual(codes([
      ev(NOW, 'a', 'gateway', false, { status: 401, code: 'invalid_token', rule: 'expired' }),
      ev(NOW + 1, 'a', 'token', true, { grantType: 'refresh_token' }),
      ev(NOW, 'b1', 'registered', true, { clientName: 'B', redirectUris: ['http://127.0.0.1/cb'] }),
      ev(NOW + 5, 'b2', 'registered', true, { clientName: 'B', redirectUris: ['http://127.0.0.1/cb'] }),
      ev(NOW + 6, 'b2', 'authorize', true, { resource: 'https://x/mcp', pkce: true, redirectMatched: true }),
      ev(NOW, 'young', 'registered', true, { clientName: 'Y', redirectUris: ['http://127.0.0.1/y'] }),
    ], NOW + 60), []);
  });

  it('one registration silent for more than a few minutes is diagnosed too', () => {
    assert.deepEqual(codes([ev(NOW, 'quiet', 'registered', true, { clientName: 'Q', redirectUris: [] })], NOW + 3600), ['quiet:registered-never-authorized']);
  });
});

const [sqlite] = storesUnderTest();
describe('connection doctor recorder', { skip: sqlite!.skip }, () => {
  it('writes what is queued in one batch, and drops a batch the store refuses without throwing', async () => {
    const store = await sqlite!.make();
    const recorder = new ConnectionRecorder(store.connectionEvents, silentLogger(), () => NOW, { batchMs: 60_000 });
    recorder.record({ kind: 'registered', ok: true, clientId: 'x' });
    recorder.record({ kind: 'authorize', ok: false, clientId: 'x', detail: { pkce: false } });
    assert.equal((await store.connectionEvents.since(0)).length, 0, 'queued, not written');
    await recorder.flush();
    assert.deepEqual((await store.connectionEvents.forClient('x', 0)).map((e) => [e.kind, e.ok, e.at]), [['registered', true, NOW], ['authorize', false, NOW]]);
    const refusing = new ConnectionRecorder({ append: () => Promise.reject(new Error('database away')) }, silentLogger(), () => NOW);
    refusing.record({ kind: 'token', ok: true });
    await refusing.flush();
    await store.close();
  });
});
