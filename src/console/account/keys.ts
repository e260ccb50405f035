/**
 * `/account/keys`: your API keys for scripts and CI. The list never shows a secret (only the
 * visible prefix); creating one shows its secret once, on the answer to the form (a POST, never a
 * URL, never cached), and nowhere ever again. Revoking is permanent. The rules — a key never
 * exceeds its creator, expiry choices, applications and resources of the org — are
 * identity/api-keys.ts's; this page turns a plain form into its input and its field errors back
 * into the form.
 */
import type { Hono } from 'hono';
import { issueApiKey, listApiKeys, revokeApiKey, type ApiKeyView } from '../../api-keys/service.ts';
import { identityDeps } from '../../identity/context.ts';
import { audit } from './audit.ts';
import { confirmFirst } from '../confirm.ts';
import { html } from '../../web/html.ts';
import type { SignedIn } from '../../web/session.ts';
import { csrfValid, field, type WebContext, type WebDeps, type WebEnv } from '../../web/pages.ts';
import { formRefusal, refusalPage } from '../refusals.ts';
import { keyCreateForm, keyInputFromForm, type KeyFormAgain } from './key-form.ts';
import { keyNames, keyTable } from './key-views.ts';
import { formExpired, notFound, notice, requireSignedIn, signedInForm, signedInPage } from './layout.ts';

export function keyRoutes(app: Hono<WebEnv>, deps: WebDeps): void {
  const base = deps.base;
  const ids = identityDeps(deps);

  async function page(c: WebContext, me: SignedIn, extra: KeyFormAgain & { created?: { key: ApiKeyView; secret: string } } = {}) {
    const orgs = await deps.store.orgs.forUser(me.user.id);
    const keys = await listApiKeys(ids, { userId: me.user.id });
    const names = await keyNames(deps, [...keys.map((k) => k.orgId), ...orgs.map((o) => o.id)]);
    const created = extra.created;
    return signedInPage(deps, c, me, {
      title: 'API keys',
      active: 'keys',
      body: html`<h1>API keys</h1>
${notice(c, { revoked: 'The key was revoked. It stops working now, everywhere, for good.' })}
${created
  ? html`<section class="notice" data-testid="created" data-key="${created.key.id}">
<p><strong>Your new key “${created.key.name}”.</strong> Copy it now: it is shown this once and never again.</p>
<code class="secret" data-testid="secret">${created.secret}</code>
<p class="muted">Use it as <code>Authorization: Bearer ${created.key.prefix}…</code></p>
</section>`
  : ''}
${keyTable(deps, c, keys, names, `${base}/account/keys/revoke`)}
<h2>Create a key</h2>
${orgs.length ? await keyCreateForm(deps, c, orgs, names.applications, extra) : html`<p class="muted">Keys act for an organization; you do not belong to one yet.</p>`}`,
    });
  }

  app.get('/account/keys', async (c) => {
    const me = await requireSignedIn(deps, c);
    if (me instanceof Response) return me;
    return c.html(await page(c, me));
  });

  app.post('/account/keys', async (c) => {
    const me = await requireSignedIn(deps, c);
    if (me instanceof Response) return me;
    const form = await c.req.parseBody({ all: true });
    if (!csrfValid(deps, c, form.csrf, 'keys:create')) return formExpired(deps, c);
    const orgId = typeof form.org === 'string' ? form.org : '';
    const input = keyInputFromForm(form);
    let created;
    try {
      created = await issueApiKey(ids, { orgId, userId: me.user.id }, input);
    } catch (err) {
      const refusal = formRefusal(err);
      if (refusal.status === 404) return notFound(deps, c);
      return c.html(await page(c, me, { refusal, name: String(input.name ?? '') }), refusal.status === 403 ? 403 : 400);
    }
    await audit(deps, { kind: 'account.key.created', orgId: created.key.orgId, actor: me.user.id, subject: me.user.id, details: { key: created.key.id, admin: created.key.admin } });
    deps.log.info({ event: 'key.created', user: me.user.id, key: created.key.id }, 'API key created');
    return c.html(await page(c, me, { created }));
  });

  app.post('/account/keys/revoke', async (c) => {
    const posted = await signedInForm(deps, c, 'keys:revoke');
    if (posted instanceof Response) return posted;
    const { me, form } = posted;
    const ask = confirmFirst(deps, c, form, 'keys:revoke', {
      title: 'Revoke this API key?',
      text: 'Every program using it is refused from now on, at every gateway. A revoked key cannot be brought back; you can make a new one.',
      button: 'Revoke',
      cancel: `${base}/account/keys`,
    });
    if (ask) return ask;
    try {
      const key = await revokeApiKey(ids, { userId: me.user.id }, field(form, 'key'), me.user.id);
      await audit(deps, { kind: 'account.key.revoked', orgId: key.orgId, actor: me.user.id, subject: me.user.id, details: { key: key.id } });
    } catch (err) {
      return refusalPage(deps, c, err, { already_revoked: { title: 'This key is revoked already', text: 'Revoking is permanent; there is nothing more to do.' } });
    }
    return c.redirect(`${base}/account/keys?done=revoked`, 303);
  });
}
