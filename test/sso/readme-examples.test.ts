/**
 * The README's worked examples of single sign-on connections (Okta, Entra ID, Google Workspace,
 * GitHub, SAML) are configurations a reader may paste: each one, as printed, is accepted by the
 * configuration loader — with the issuer, preset and role mapping the text around it promises.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig, type ConfigInput } from '../../src/core/config.ts';

const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
const section = readme.slice(readme.indexOf('### Single sign-on'), readme.indexOf('## Admin API'));

/** Every ```json block of the section that is one connection (an object with `id` and `type`). */
function connectionBlocks(): Record<string, unknown>[] {
  const blocks = [...section.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
  return blocks.filter((b) => b.startsWith('{')).map((b) => JSON.parse(b) as Record<string, unknown>).filter((c) => typeof c.id === 'string' && typeof c.type === 'string');
}

const dir = mkdtempSync(join(tmpdir(), 'pct-readme-'));
const load = (connection: Record<string, unknown>) =>
  loadConfig({ env: {}, cwd: dir, overrides: { publicUrl: 'https://mcp.acme.com', identityProviders: [connection] } as ConfigInput });

describe('the README’s single sign-on examples', () => {
  const examples = connectionBlocks();

  test('there is a worked example for Okta, Entra ID, Google Workspace, GitHub and SAML', () => {
    const kinds = examples.map((c) => (c.type === 'oidc' ? c.preset : c.type));
    for (const kind of ['okta', 'entra', 'google', 'github', 'saml']) assert.ok(kinds.includes(kind), `an example for ${kind}: ${JSON.stringify(kinds)}`);
  });

  for (const example of connectionBlocks()) {
    test(`the "${String(example.id)}" example loads as printed`, () => {
      const config = load(example);
      const [connection] = config.identityProviders;
      assert.equal(connection?.id, example.id);
      if (example.preset === 'google') assert.equal(connection?.type === 'oidc' && connection.issuer, 'https://accounts.google.com');
      if (example.preset === 'entra') assert.equal(connection?.type === 'oidc' && connection.issuer, `https://login.microsoftonline.com/${example.tenantIds ? 'organizations' : String(example.tenantId)}/v2.0`);
    });
  }
});
