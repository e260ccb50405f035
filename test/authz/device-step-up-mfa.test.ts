/**
 * The device page (`portcullis login` / `connect`) and a step-up that needs a second factor
 * (`stepUp: { maxAge, mfa: true }`): a browser signed in recently with a password only is asked for
 * the second factor — here, someone without one is led to set up TOTP — before the confirmation,
 * and the device's token then carries the step-up scope with `acr` MFA.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { assertTokens } from '../helpers/authz.ts';
import { deviceStep, pollDeviceToken, startDeviceAuthorization } from '../helpers/device.ts';
import { testClock } from '../helpers/clock.ts';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../helpers/server.ts';
import { UserAgent } from '../helpers/user-agent.ts';
import { consoleSignIn, totpCode } from '../mfa/support.ts';

const ACR_MFA = 'urn:portcullis:acr:mfa';

describe('device flow and a step-up with a second factor', () => {
  const clock = testClock();
  let server: TestServer;
  before(async () => {
    server = await startTestServer(
      { applications: [{ slug: 'vault', name: 'Vault', upstream: { url: 'http://127.0.0.1:9/mcp' }, tools: { wipe: { stepUp: { maxAge: 300, mfa: true } } }, autoApprove: true }] },
      { clock },
    );
  });
  after(() => server?.stop());

  it('a password-only session is led to the second factor (enrolment here) before confirming; the token says MFA', async () => {
    await server.addUser('device-mfa@example.com');
    const ua = new UserAgent();
    await consoleSignIn(server, 'device-mfa@example.com', TEST_PASSWORD, ua);
    const vault = `${server.url}/mcp/vault`;
    const started = await startDeviceAuthorization(server, { resource: vault, scope: 'vault:step-up' });
    const enrol = await ua.follow(started.verification_uri_complete);
    assert.match(enrol.url, /\/sign-in\/enrol$/, `the second factor first: ${enrol.url}`);
    assert.notEqual(deviceStep(enrol.body), 'confirm');

    const secret = /data-secret="([A-Z2-7]+)"/.exec(enrol.body)![1]!;
    const codes = await ua.submit(enrol, /\/sign-in\/enrol$/, { code: totpCode(secret, clock) });
    const onward = /href="([^"]+)" data-testid="continue"/.exec(codes.body)![1]!.replaceAll('&amp;', '&');
    const confirm = await ua.follow(new URL(onward, server.url).href);
    assert.equal(deviceStep(confirm.body), 'confirm');
    assert.equal(deviceStep((await ua.submit(confirm, /\/device\/confirm$/, { decision: 'approve', grant: 'vault:step-up' })).body), 'approved');
    const tokens = assertTokens(await pollDeviceToken(server, started.device_code));
    assert.match(tokens.scope, /vault:step-up/);
    assert.equal(decodeJwt(tokens.access_token).acr, ACR_MFA);
  });
});
