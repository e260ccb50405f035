/**
 * The denial reference: every code of the closed error union has an entry (read from the union's
 * source, not from the table under test), the public page has an anchor per code, and refusals
 * point at it — an OAuth endpoint's error carries `error_uri` (RFC 6749 §5.2), a gateway JSON-RPC
 * error `data.help` — and that link opens the code's entry without signing in.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DENIAL_REFERENCE } from '../../src/core/denial-reference.ts';
import { postMcp, toolCall } from '../guard/sign-in.ts';
import { appUrl, httpApp, startFixtureMcp, startGateway, tokenFor, type FixtureMcp } from '../helpers/gateway.ts';
import type { TestServer } from '../helpers/server.ts';

const root = join(import.meta.dirname, '..', '..');

/** The string members of a `type X = | 'a' | 'b' …` union, read from the source file. */
function unionMembers(file: string, name: string): string[] {
  // Without comments: their words may hold a `;` or a quoted code.
  const text = readFileSync(join(root, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const start = text.indexOf(`export type ${name} =`);
  assert.ok(start >= 0, `${name} in ${file}`);
  const body = text.slice(start, text.indexOf(';', start));
  return [...body.matchAll(/\|\s*'([a-z_]+)'/g)].map((m) => m[1]!);
}

const ALL_CODES = [
  ...unionMembers('src/shared/denials.ts', 'DenialCode'),
  'unavailable', // CheckCode = DenialCode | 'unavailable'
  ...unionMembers('src/core/errors.ts', 'RequestErrorCode'),
];

describe('the denial reference', () => {
  it('has an entry, with a meaning and a fix, for every code of the union, and nothing else', () => {
    assert.ok(ALL_CODES.length > 40, 'the union was read');
    assert.deepEqual(Object.keys(DENIAL_REFERENCE).sort(), [...ALL_CODES].sort());
    for (const code of ALL_CODES) {
      const entry = DENIAL_REFERENCE[code as keyof typeof DENIAL_REFERENCE];
      assert.ok(entry.meaning.length > 10 && entry.fix.length > 5, code);
    }
  });

  describe('served, and linked from refusals', () => {
    let upstream: FixtureMcp;
    let server: TestServer;
    before(async () => {
      upstream = await startFixtureMcp();
      // Nobody's address is in 10.0.0.0/8 here: every call is refused by the ip-allow rule.
      server = await startGateway([httpApp('locked', upstream.url, { ipAllow: ['10.0.0.0/8'] })]);
    });
    after(async () => {
      await server?.stop();
      await upstream?.stop();
    });

    it('is a public page with an anchor for every code, saying the HTTP status RFC 6750 / RFC 9110 give it', async () => {
      const res = await fetch(`${server.url}/docs/denials`, { redirect: 'manual' });
      assert.equal(res.status, 200);
      const text = await res.text();
      for (const code of ALL_CODES) assert.ok(text.includes(`id="${code}"`), `anchor for ${code}`);
      const statusOf = (code: string) => new RegExp(`id="${code}"[\\s\\S]*?data-testid="status">(\\d+)<`).exec(text)?.[1];
      assert.equal(statusOf('invalid_token'), '401'); // RFC 6750 §3.1
      assert.equal(statusOf('insufficient_scope'), '403'); // RFC 6750 §3.1
      assert.equal(statusOf('rate_limited'), '429'); // RFC 6585 §4
    });

    it('an OAuth endpoint’s error carries error_uri, which opens that code’s entry', async () => {
      const res = await fetch(`${server.url}/oauth/introspect`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('nobody:wrong').toString('base64')}` },
        body: 'token=abc',
      });
      assert.equal(res.status, 401);
      const body = (await res.json()) as { error: string; error_uri?: string };
      assert.equal(body.error, 'invalid_client');
      assert.equal(body.error_uri, `${server.url}/docs/denials#invalid_client`);
      const page = await fetch(body.error_uri);
      assert.equal(page.status, 200);
      assert.ok((await page.text()).includes('id="invalid_client"'));
    });

    it('a gateway refusal carries data.help, beside the unchanged code and rule', async () => {
      const { access_token } = await tokenFor(server, 'locked', { scope: 'locked:read' });
      const answer = await postMcp(appUrl(server, 'locked'), toolCall('read_notes'), { token: access_token, headers: { 'mcp-protocol-version': '2025-06-18' } });
      const data = (answer.json as { error: { data: Record<string, unknown> } }).error.data;
      assert.equal(data.code, 'policy_denied');
      assert.equal(data.rule, 'ip-allow');
      assert.equal(data.help, `${server.url}/docs/denials#policy_denied`);
      assert.equal((await fetch(data.help as string)).status, 200);
    });
  });
});
