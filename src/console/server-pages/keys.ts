/**
 * `/server/keys`: the token-signing key ring — every key, which one signs, which are retired and
 * still published for verification — and rotation, through the same service as `portcullis keys
 * rotate` (signing-keys/key-ring.ts). Rotating retires the current key: tokens it signed keep
 * verifying until they expire (RFC 7517 §5: a JWKS may carry several keys; `kid` picks one).
 * There is no "retire without a replacement": the server would have nothing left to sign with.
 * A retired key can be retired early — taken out of the JWKS before its tokens expire (a key you no
 * longer trust) — through the same service as `portcullis keys retire` and the admin API.
 */
import type { Hono } from 'hono';
import { retireSigningKeyNow, rotateSigningKey } from '../../signing-keys/key-ring.ts';
import type { SigningKeyRecord } from '../../store/signing-keys.ts';
import { audit } from '../account/audit.ts';
import { refusalPage } from '../refusals.ts';
import { csrfField, notice, when } from '../account/layout.ts';
import { html } from '../../web/html.ts';
import type { WebEnv } from '../../web/pages.ts';
import { serverAccess, serverForm, serverPage, serverPath, type ServerPagesDeps } from './access.ts';

function keyRow(deps: ServerPagesDeps, k: SigningKeyRecord, signing: string | undefined) {
  const state = k.retiredAt !== null ? 'retired' : k.kid === signing ? 'signing' : 'active';
  // Only a retired key can go early; the signing key needs a rotation first (nothing else signs).
  const action = k.retiredAt !== null
    ? html`<a href="${serverPath(deps, 'keys', `/${encodeURIComponent(k.kid)}/retire`)}" data-testid="retire-start">Stop publishing…</a>`
    : html`<span>Rotate first</span>`;
  return html`<tr data-testid="signing-key" data-kid="${k.kid}" data-state="${state}"><td><code>${k.kid}</code></td><td>${k.alg}</td><td>${state}</td><td>${when(k.createdAt)}</td><td>${when(k.retiredAt, 'not retired')}</td><td>${action}</td></tr>`;
}

/** The newest unretired key signs (key-ring.ts signingOrder). */
function signingKid(keys: SigningKeyRecord[]): string | undefined {
  return keys.filter((k) => k.retiredAt === null).sort((a, b) => b.createdAt - a.createdAt)[0]?.kid;
}

export function keyRoutes(app: Hono<WebEnv>, deps: ServerPagesDeps): void {
  app.get('/server/keys', async (c) => {
    const me = await serverAccess(deps, c);
    if (me instanceof Response) return me;
    const keys = (await deps.store.signingKeys.list()).sort((a, b) => b.createdAt - a.createdAt);
    const signing = signingKid(keys);
    const body = html`${notice(c, { rotated: 'A new key signs from now on. The previous key stays published until the tokens it signed have expired.', retired: 'The key is no longer published: tokens it signed stop verifying within a few seconds.' })}
<div class="table-scroll" tabindex="0"><table data-testid="signing-keys"><caption>Token-signing keys, newest first</caption><thead><tr><th scope="col">Key id (kid)</th><th scope="col">Algorithm</th><th scope="col">State</th><th scope="col">Created</th><th scope="col">Retired</th><th scope="col">Action</th></tr></thead>
<tbody>${keys.map((k) => keyRow(deps, k, signing))}</tbody></table></div>
<p><a href="${serverPath(deps, 'keys', '/rotate')}" data-testid="rotate-start">Rotate the signing key…</a></p>`;
    return c.html(await serverPage(deps, c, me, 'keys', body));
  });

  // The confirmation step: rotation changes every token the server signs from now on.
  app.get('/server/keys/rotate', async (c) => {
    const me = await serverAccess(deps, c);
    if (me instanceof Response) return me;
    const body = html`<h2>Rotate the signing key?</h2>
<p>A new ES256 key signs every token from now on. The current key is retired: it stays in the published key set until the tokens it signed have expired, so nothing signed today stops working. Every server process switches within a few seconds.</p>
<form method="post" action="${serverPath(deps, 'keys', '/rotate')}" data-testid="rotate-form">${csrfField(deps, c, 'server:keys:rotate')}
<button type="submit">Rotate now</button> <a href="${serverPath(deps, 'keys')}">Cancel</a></form>`;
    return c.html(await serverPage(deps, c, me, 'keys', body, 'Rotate the signing key'));
  });

  app.post('/server/keys/rotate', async (c) => {
    const posted = await serverForm(deps, c, 'server:keys:rotate');
    if (posted instanceof Response) return posted;
    const before = (await deps.store.signingKeys.list()).filter((k) => k.retiredAt === null).map((k) => k.kid);
    const fresh = await rotateSigningKey(deps.store, deps.dataKey, deps.now());
    // The same record as `portcullis keys rotate`, with the person as actor.
    await audit(deps, { kind: 'signing_key.rotated', actor: posted.me.user.id, reason: fresh.alg, details: { kid: fresh.kid, retired: before } });
    return c.redirect(`${serverPath(deps, 'keys')}?done=rotated`, 303);
  });
  retireRoutes(app, deps);
}

function retireRoutes(app: Hono<WebEnv>, deps: ServerPagesDeps): void {
  // The confirmation says what happens to tokens: they stop verifying, which signs people out of clients.
  app.get('/server/keys/:kid/retire', async (c) => {
    const me = await serverAccess(deps, c);
    if (me instanceof Response) return me;
    const kid = c.req.param('kid');
    const key = (await deps.store.signingKeys.list()).find((k) => k.kid === kid && k.retiredAt !== null);
    if (!key) return c.redirect(serverPath(deps, 'keys'), 303);
    const body = html`<h2>Stop publishing key <code>${kid}</code>?</h2>
<p>The key leaves the published key set now. Every token it signed — access and ID tokens not yet expired — stops verifying within a few seconds, so clients holding them must refresh or sign in again. Do this when you no longer trust the key; otherwise it leaves on its own once its tokens have expired. This cannot be undone.</p>
<form method="post" action="${serverPath(deps, 'keys', `/${encodeURIComponent(kid)}/retire`)}" data-testid="retire-form">${csrfField(deps, c, 'server:keys:retire')}
<button type="submit">Stop publishing it</button> <a href="${serverPath(deps, 'keys')}">Cancel</a></form>`;
    return c.html(await serverPage(deps, c, me, 'keys', body, 'Retire a signing key early'));
  });

  app.post('/server/keys/:kid/retire', async (c) => {
    const posted = await serverForm(deps, c, 'server:keys:retire');
    if (posted instanceof Response) return posted;
    try {
      // The key that signs is refused (409 conflict): rotate first.
      const removed = await retireSigningKeyNow(deps.store, c.req.param('kid'));
      await audit(deps, { kind: 'signing_key.retired', actor: posted.me.user.id, reason: 'early', details: { kid: removed.kid } });
    } catch (err) {
      return refusalPage(deps, c, err);
    }
    return c.redirect(`${serverPath(deps, 'keys')}?done=retired`, 303);
  });
}
