/**
 * The token explainer (`/server/tokens`): a server administrator pastes an access token and reads
 * what the gateway makes of it (token-explanation.ts) — issuer, audience, expiry, scopes, user,
 * client, grant state, signing key, and which tools of its application it may call, with the check
 * that fails first highlighted. A POST (the token stays out of URLs and access logs); the page
 * never shows the token again.
 */
import { csrfField, when } from '../account/layout.ts';
import { html, type Html } from '../../web/html.ts';
import { clientIp, type WebContext } from '../../web/pages.ts';
import { serverAccess, serverForm, serverPage, serverPath, type ServerRoutes } from './access.ts';
import { explainToken, type Explanation } from './token-explanation.ts';
import type { ServerPagesDeps } from './access.ts';

const PURPOSE = 'server:tokens';

function form(deps: ServerPagesDeps, c: WebContext, ip: string): Html {
  return html`<form method="post" action="${serverPath(deps, 'tokens')}" data-testid="token-form">${csrfField(deps, c, PURPOSE)}
<label for="token">Access token (JWT)</label>
<textarea id="token" name="token" rows="5" required autocomplete="off" spellcheck="false"></textarea>
<label for="ip">Calling from (IP address, for the application’s network rules)</label>
<input type="text" id="ip" name="ip" value="${ip}" required>
<button type="submit">Explain</button>
</form>
<p class="muted">The token is checked here and forgotten: it is not logged, stored or shown again.</p>`;
}

const text = (value: unknown) => (typeof value === 'string' ? value : value === undefined ? '—' : JSON.stringify(value));

function claimsList(x: Explanation): Html {
  const claims = x.claims!;
  const scope = typeof claims.scope === 'string' ? claims.scope : '';
  return html`<dl data-testid="token-claims">
<dt>Issuer</dt><dd data-testid="issuer">${text(claims.iss)}</dd>
<dt>Audience</dt><dd data-testid="audience">${text(claims.aud)}${x.app ? html` (application <strong>${x.app.name}</strong>)` : ''}</dd>
<dt>Expires</dt><dd data-testid="expiry">${when(typeof claims.exp === 'number' ? claims.exp : undefined)}</dd>
<dt>Scopes</dt><dd data-testid="scopes">${scope || '—'}</dd>
<dt>User</dt><dd data-testid="user">${x.user ?? text(claims.sub)}</dd>
<dt>Client</dt><dd data-testid="client">${x.clientName ? html`${x.clientName} (<code>${text(claims.client_id)}</code>)` : text(claims.client_id)}</dd>
<dt>Grant</dt><dd data-testid="grant" data-revoked="${String(x.revoked === true)}">${x.revoked ? 'revoked' : 'not revoked'}</dd>
<dt>Signing key</dt><dd data-testid="key" data-state="${x.keyState ?? 'unknown'}"><code>${x.kid ?? '—'}</code> (${x.keyState ?? 'unknown'})</dd>
</dl>`;
}

function verdict(x: Explanation, base: string): Html {
  if (!x.failed) return html`<p class="notice" role="status" data-testid="verdict" data-code="valid">The gateway accepts this token.</p>`;
  const { code, rule } = x.failed;
  return html`<p class="error" role="alert" data-testid="verdict" data-code="${code}" data-rule="${rule}">The gateway refuses this token: <strong>${code}</strong> (check <code>${rule}</code>). <a href="${base}/docs/denials#${code}">What this means</a></p>`;
}

function toolsTable(x: Explanation): Html | '' {
  if (!x.tools.length) return '';
  return html`<h2>Tools of ${x.app!.name}</h2>
<div class="table-scroll" tabindex="0"><table data-testid="token-tools"><thead><tr><th scope="col">Tool</th><th scope="col">May call?</th><th scope="col">Deciding rule</th></tr></thead>
<tbody>${x.tools.map(({ name, decision }) => html`<tr data-testid="token-tool" data-tool="${name}" data-allowed="${String(decision.allow)}"><td><code>${name}</code></td><td>${decision.allow ? 'yes' : html`<strong>no: ${decision.code}</strong>`}</td><td>${decision.allow ? '—' : html`<code>${decision.rule}</code>`}</td></tr>`)}</tbody></table></div>`;
}

function explanationView(deps: ServerPagesDeps, x: Explanation): Html {
  if (!x.claims) return html`<section aria-labelledby="explained"><h2 id="explained">Explanation</h2>${verdict(x, deps.base)}<p>This is not a JWT access token.</p></section>`;
  return html`<section aria-labelledby="explained"><h2 id="explained">Explanation</h2>${verdict(x, deps.base)}${claimsList(x)}${toolsTable(x)}</section>`;
}

export const tokenRoutes: ServerRoutes = (app, deps) => {
  app.get('/server/tokens', async (c) => {
    const me = await serverAccess(deps, c);
    if (me instanceof Response) return me;
    return c.html(await serverPage(deps, c, me, 'tokens', form(deps, c, clientIp(deps, c))));
  });
  app.post('/server/tokens', async (c) => {
    const posted = await serverForm(deps, c, PURPOSE);
    if (posted instanceof Response) return posted;
    const token = typeof posted.form.token === 'string' ? posted.form.token.trim() : '';
    const ip = typeof posted.form.ip === 'string' && posted.form.ip.trim() ? posted.form.ip.trim() : clientIp(deps, c);
    const explanation = await explainToken(deps, token, ip);
    return c.html(await serverPage(deps, c, posted.me, 'tokens', html`${explanationView(deps, explanation)}${form(deps, c, ip)}`));
  });
};
