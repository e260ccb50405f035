/**
 * Guessing user codes (RFC 8628 §5.1): an attacker who enters someone else's code on their own
 * account takes over the victim's device sign-in. Wrong codes are limited per address and for the
 * whole server, with lock-outs that grow; a right code clears the address's count; the person is
 * told how long to wait (page text and Retry-After).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DeviceGuessLimits } from '../../src/authz/device/guesses.ts';
import { assertOAuthError } from '../helpers/authz.ts';
import { approveDeviceOverHttp, deviceStep, pollDeviceToken, startDeviceAuthorization } from '../helpers/device.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { UserAgent, type PageResponse } from '../helpers/user-agent.ts';

/** A code no device was given (the alphabet, but not issued). */
const wrongCode = (i: number) => `BBBB-${'BCDFGHJKLMNPQRSTVWXZ'[Math.floor(i / 20) % 20]}${'BCDFGHJKLMNPQRSTVWXZ'[i % 20]}BB`;

class Guesser {
  readonly ua = new UserAgent();
  #form: PageResponse | undefined;
  readonly server: TestServer;
  readonly ip: string | undefined;
  constructor(server: TestServer, ip?: string) {
    this.server = server;
    this.ip = ip;
  }

  async enter(code: string): Promise<PageResponse> {
    const headers: Record<string, string> = this.ip ? { 'x-forwarded-for': this.ip } : {};
    this.#form ??= await this.ua.request(`${this.server.url}/device`, { headers });
    const form = /name="csrf" value="([^"]+)"/.exec(this.#form.body)![1]!;
    return this.ua.request(`${this.server.url}/device`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded', origin: this.server.url },
      body: new URLSearchParams({ csrf: form, user_code: code }),
    });
  }
}

describe('user code guessing from one address', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server?.stop());

  it('ten wrong codes are mistakes; then the address is locked out, told how long, and even a right code waits', async () => {
    const guesser = new Guesser(server);
    for (let i = 0; i < 10; i++) assert.equal((await guesser.enter(wrongCode(i))).status, 400, `guess ${i + 1}`);
    assert.equal((await guesser.enter(wrongCode(10))).status, 400, 'the 11th is still looked at (and starts the lock-out)');

    const locked = await guesser.enter(wrongCode(11));
    assert.equal(locked.status, 429);
    const wait = Number(locked.headers.get('retry-after'));
    assert.ok(wait > 0 && wait <= 30, `Retry-After ${wait}`);
    assert.match(locked.body, new RegExp(`Try again in ${wait} seconds`));

    // The victim's real code, guessed during the lock-out, is not even looked up: the attacker learns nothing.
    const device = await startDeviceAuthorization(server);
    assert.equal((await guesser.enter(device.user_code)).status, 429);
    // The link form (verification_uri_complete) is held to the same limit.
    const viaLink = await guesser.ua.request(device.verification_uri_complete);
    assert.equal(viaLink.status, 429);
    assert.ok(Number(viaLink.headers.get('retry-after')) > 0);
    assertOAuthError(await pollDeviceToken(server, device.device_code), 'authorization_pending');
  });
});

describe('a right code clears the address', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server?.stop());

  it('a person who mistyped nine times and then got it right starts from zero', async () => {
    const person = new Guesser(server);
    for (let i = 0; i < 9; i++) assert.equal((await person.enter(wrongCode(i))).status, 400);
    const device = await startDeviceAuthorization(server);
    const { page } = await approveDeviceOverHttp(server, device.user_code, { email: server.user.email, password: server.password, ua: person.ua });
    assert.equal(deviceStep(page.body), 'approved');
    for (let i = 0; i < 10; i++) assert.equal((await person.enter(wrongCode(100 + i))).status, 400, `after the reset, mistake ${i + 1} is not locked`);
  });
});

describe('user code guessing from many addresses', () => {
  let server: TestServer;
  before(async () => {
    // Behind a proxy, so each guess can come from its own address (X-Forwarded-For).
    server = await startTestServer({ trustProxy: true });
  });
  after(() => server?.stop());

  it('a distributed guesser meets the server-wide limit, and every address waits', async () => {
    const device = await startDeviceAuthorization(server);
    for (let i = 0; i < 200; i++) {
      const res = await new Guesser(server, `10.1.${Math.floor(i / 250)}.${i % 250}`).enter(wrongCode(i));
      assert.equal(res.status, 400, `guess ${i + 1} from a fresh address`);
    }
    assert.equal((await new Guesser(server, '10.2.0.1').enter(wrongCode(300))).status, 400, 'the 201st starts the lock-out');
    const fresh = await new Guesser(server, '10.2.0.2').enter(device.user_code);
    assert.equal(fresh.status, 429, 'every address waits now, even with a right code');
    assert.ok(Number(fresh.headers.get('retry-after')) > 0);
  });
});

describe('lock-outs grow', () => {
  it('each further wrong code doubles the wait, up to the cap; only the address is cleared by a success', async () => {
    let now = 1_000_000;
    const limits = new DeviceGuessLimits(
      { ip: { free: 2, window: 3600, base: 30, maxLock: 120 }, global: { free: 5, window: 900, base: 5, maxLock: 60 } },
      () => now,
    );
    await limits.wrong('a');
    await limits.wrong('a');
    assert.equal(await limits.retryAfter('a'), 0);
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      await limits.wrong('a');
      waits.push(await limits.retryAfter('a'));
      now += await limits.retryAfter('a');
    }
    assert.deepEqual(waits, [30, 60, 120, 120]);
    await limits.right('a');
    assert.equal(await limits.retryAfter('a'), 0);
    // Six wrong codes so far: the global count (free 5) still holds everyone back after a success.
    await limits.wrong('b');
    assert.ok((await limits.retryAfter('c')) > 0, 'a third address waits too');
  });
});

describe('what is not a code', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server?.stop());

  it('input that cannot be a code (wrong length, vowels, digits) is refused without counting as a guess', async () => {
    const person = new Guesser(server);
    for (const typo of ['BCDF-GHJ', 'BCDF-GHJKL', 'ABCD-EFGH', '1234-5678', '', 'x'.repeat(500)]) {
      for (let i = 0; i < 3; i++) assert.equal((await person.enter(typo)).status, 400, typo);
    }
    // Eighteen typos later the person still has all their real attempts.
    for (let i = 0; i < 10; i++) assert.equal((await person.enter(wrongCode(i))).status, 400);
    assert.equal((await person.enter(wrongCode(10))).status, 400);
    assert.equal((await person.enter(wrongCode(11))).status, 429);
  });
});
