/**
 * The kit against a real Portcullis server: sign in with a code, several accounts and switching,
 * tokens renewed before they expire, a refused renewal ends the sign-in, logout revokes at the
 * server, and the device-flow answers (slow_down, expired, denied) are handled as RFC 8628 says.
 */
import { CLI_CLIENT_ID } from '../../src/shared/cli-client.ts';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { AuthFile } from '../../src/sdk/device-login/auth-file.ts';
import { DeviceLoginError } from '../../src/sdk/device-login/errors.ts';
import { DeviceLogin, type ChangeReason, type DeviceLoginOptions } from '../../src/sdk/device-login/session.ts';
import { postForm } from '../helpers/authz.ts';
import { approveDeviceOverHttp } from '../helpers/device.ts';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../helpers/server.ts';

function authFilePath(): string {
  return join(mkdtempSync(join(tmpdir(), 'portcullis-kit-')), '.portcullis', 'auth.json');
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof DeviceLoginError, `expected a DeviceLoginError, got ${String(err)}`);
    return err.code;
  }
  return undefined;
}

/** Start a sign-in with the kit, approve it as `email` over HTTP, finish it. */
async function signIn(server: TestServer, login: DeviceLogin, email = server.user.email) {
  const pending = await login.start();
  const approval = await approveDeviceOverHttp(server, pending.userCode, { email, password: TEST_PASSWORD });
  assert.match(approval.page.body, /<main id="device-approved"/);
  const view = await login.complete(10);
  assert.ok(view, 'signed in');
  return view;
}

describe('device login options', () => {
  it('without an MCP URL or an issuer there is nothing to sign in to: config_invalid, as a DeviceLoginError', () => {
    const authFile = join(mkdtempSync(join(tmpdir(), 'pct-dl-')), 'auth.json');
    assert.throws(() => new DeviceLogin({ authFile } as DeviceLoginOptions), (err: unknown) => err instanceof DeviceLoginError && err.code === 'config_invalid');
  });
});

describe('device login against a Portcullis server', () => {
  let server: TestServer;
  const kit = (options: Partial<DeviceLoginOptions> = {}) => new DeviceLogin({ mcpUrl: server.mcpUrl, authFile: authFilePath(), openBrowser: false, ...options });

  before(async () => {
    server = await startTestServer();
    await server.addUser('bob@example.com', TEST_PASSWORD, { role: 'member' });
  });
  after(() => server.stop());

  it('discovers the server from its MCP URL, signs in with a code, and says who signed in and for which org', async () => {
    const login = kit();
    const target = await login.target();
    assert.equal(target.resource, server.mcpUrl);
    assert.equal(target.issuer, server.url);
    const view = await signIn(server, login);
    assert.equal(view.user.email, 'ada@example.com');
    assert.equal(view.org?.slug, 'acme');
    assert.equal(view.org?.role, 'owner');
    const token = decodeJwt(await login.accessToken());
    assert.equal(token.aud, server.mcpUrl, 'the token is bound to the MCP server');
    assert.equal(token.client_id, CLI_CLIENT_ID);
    assert.equal(statSync(login.file.path).mode & 0o777, 0o600);
  });

  it('keeps two accounts for one server and switches between them', async () => {
    const path = authFilePath();
    const changes: ChangeReason[] = [];
    const login = kit({ authFile: path });
    login.onChange((reason) => changes.push(reason));
    await signIn(server, login, 'ada@example.com');
    await signIn(server, login, 'bob@example.com');
    const status = await login.status();
    assert.deepEqual(status.accounts.map((a) => [a.user.email, a.current]), [['ada@example.com', false], ['bob@example.com', true]]);
    assert.equal(decodeJwt(await login.accessToken()).sub, (await server.store.users.findByEmail('bob@example.com'))!.id);

    login.switchTo('ada@example.com');
    assert.equal(decodeJwt(await login.accessToken()).sub, server.user.id);
    // Another process reading the same file sees the switch.
    assert.equal((await kit({ authFile: path }).status()).current?.user.email, 'ada@example.com');
    assert.equal(await codeOf(Promise.resolve().then(() => login.switchTo('eve@example.com'))), 'unknown_account');
    assert.deepEqual(changes, ['signed_in', 'signed_in', 'switched']);
  });

  it('logout revokes at the server: the refresh token stops working, and the other account becomes current', async () => {
    const path = authFilePath();
    const login = kit({ authFile: path });
    await signIn(server, login, 'bob@example.com');
    await signIn(server, login, 'ada@example.com');
    const ada = new AuthFile(path).read().accounts.find((a) => a.user.email === 'ada@example.com')!;
    const { removed, revoked, current } = await login.logout();
    assert.equal(removed?.user.email, 'ada@example.com');
    assert.equal(revoked, true);
    assert.equal(current?.user.email, 'bob@example.com');
    const refresh = await postForm(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: ada.refreshToken }, { client_id: CLI_CLIENT_ID, token_endpoint_auth_method: 'none' });
    assert.equal(refresh.body.error, 'invalid_grant');
    assert.ok(!readFileSync(path, 'utf8').includes(ada.refreshToken!), 'no trace of the tokens is left in the file');
  });

  it('the user denying the code ends the sign-in with access_denied; auth_complete then has nothing to finish', async () => {
    const login = kit();
    const pending = await login.start();
    const approval = await approveDeviceOverHttp(server, pending.userCode, { email: 'ada@example.com', password: TEST_PASSWORD, decision: 'deny' });
    assert.match(approval.page.body, /<main id="device-denied"/);
    assert.equal(await codeOf(login.complete(10)), 'access_denied');
    assert.equal(await codeOf(login.complete(0)), 'no_pending_login');
    assert.equal((await login.status()).signedIn, false);
  });

  it('honours slow_down: the interval grows by 5 seconds and no poll goes out before it has passed', async () => {
    // The kit's clock runs 5 s ahead of the server's at each step, so its polls arrive early.
    let skew = 0;
    let polls = 0;
    const counting: typeof fetch = async (input, init) => {
      if (String(input).endsWith('/oauth/token')) polls++;
      return fetch(input, init);
    };
    const login = kit({ now: () => Date.now() + skew, fetch: counting });
    await login.start();
    assert.equal(login.pollInterval, 5);
    assert.equal(await login.complete(0), undefined, 'pending');
    assert.equal(polls, 1);
    skew += 5000; // the kit believes the interval has passed; the server knows it has not
    assert.equal(await login.complete(0), undefined);
    assert.equal(polls, 2);
    assert.equal(login.pollInterval, 10, 'slow_down added 5 seconds');
    skew += 5000; // 5 s later by the kit's clock: still inside the new 10 s interval
    assert.equal(await login.complete(0), undefined);
    assert.equal(polls, 2, 'no poll before the longer interval has passed');
  });
});

describe('tokens over time', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ tokens: { accessTokenTtl: 2 } });
  });
  after(() => server.stop());

  it('renews the access token before it expires, and saves the rotated refresh token', async () => {
    const path = authFilePath();
    const login = new DeviceLogin({ mcpUrl: server.mcpUrl, authFile: path, openBrowser: false });
    await signIn(server, login);
    const first = await login.accessToken();
    const before = new AuthFile(path).read().accounts[0]!;
    assert.equal(await login.accessToken(), first, 'still fresh: no refresh');
    await sleep(1200); // inside the last half of a 2-second lifetime
    const second = await login.accessToken();
    assert.notEqual(second, first);
    assert.ok(decodeJwt(second).exp! > decodeJwt(first).exp!);
    const after = new AuthFile(path).read().accounts[0]!;
    assert.equal(after.accessToken, second);
    assert.notEqual(after.refreshToken, before.refreshToken, 'the rotated refresh token is kept');
  });

  it('a refused renewal means signed out: the entry is removed and the reason is signed_out', async () => {
    const path = authFilePath();
    const changes: ChangeReason[] = [];
    const login = new DeviceLogin({ mcpUrl: server.mcpUrl, authFile: path, openBrowser: false });
    login.onChange((reason) => changes.push(reason));
    await signIn(server, login);
    // Signed out elsewhere: the refresh token is revoked at the server (RFC 7009).
    const stored = new AuthFile(path).read().accounts[0]!;
    const revoked = await postForm(`${server.url}/oauth/revoke`, { token: stored.refreshToken, token_type_hint: 'refresh_token' }, { client_id: CLI_CLIENT_ID, token_endpoint_auth_method: 'none' });
    assert.equal(revoked.status, 200);
    assert.equal(await codeOf(login.accessToken({ forceRefresh: true })), 'signed_out');
    assert.deepEqual(new AuthFile(path).read().accounts, []);
    assert.equal(await codeOf(login.accessToken()), 'not_signed_in');
    assert.deepEqual(changes, ['signed_in', 'signed_out']);
  });

});

describe('a code nobody approves', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ tokens: { deviceCodeTtl: 2 } });
  });
  after(() => server.stop());

  it('ends with expired_token once its time is up', async () => {
    const login = new DeviceLogin({ mcpUrl: server.mcpUrl, authFile: authFilePath(), openBrowser: false });
    const pending = await login.start();
    assert.ok(pending.expiresIn <= 2);
    await sleep(2500);
    assert.equal(await codeOf(login.complete(0)), 'expired_token');
  });
});
