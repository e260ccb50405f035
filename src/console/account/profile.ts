/**
 * `/account`: who you are (e-mail, editable name), the organizations you belong to, and the
 * way to everything else about your account.
 */
import type { Hono } from 'hono';
import { updateName } from '../../identity/account.ts';
import { MAX_NAME_LENGTH } from '../../identity/new-users.ts';
import { audit } from './audit.ts';
import { accessRequestsSection } from './access-requests.ts';
import { connectionProblemsSection } from './connection-problems.ts';
import { html } from '../../web/html.ts';
import { field, type WebDeps, type WebEnv } from '../../web/pages.ts';
import { csrfField, notice, problem, requireSignedIn, signedInForm, signedInPage } from './layout.ts';

export function profileRoutes(app: Hono<WebEnv>, deps: WebDeps): void {
  const base = deps.base;

  app.get('/account', async (c) => {
    const me = await requireSignedIn(deps, c);
    if (me instanceof Response) return me;
    const orgs = await deps.store.orgs.forUser(me.user.id);
    const tooLong = c.req.query('problem') === 'name_too_long';
    const requests = await accessRequestsSection(deps, me.user.id, orgs);
    const problems = await connectionProblemsSection(deps, me.user.id);
    return c.html(
      await signedInPage(deps, c, me, {
        title: 'Your account',
        active: 'profile',
        body: html`<h1>Your account</h1>
${notice(c, { name_saved: 'Your name was saved.', password_changed: 'Your password was changed. Your other browsers were signed out.' })}
${problem(tooLong ? 'name_too_long' : undefined, `Use at most ${MAX_NAME_LENGTH} characters.`)}
<p>E-mail: <strong data-testid="email">${me.user.email}</strong></p>
<form method="post" action="${base}/account">
${csrfField(deps, c, 'account:name')}
<label for="name">Name</label>
<input id="name" name="name" type="text" autocomplete="name" maxlength="${MAX_NAME_LENGTH}" value="${me.user.name ?? ''}">
<div class="actions"><button class="primary" type="submit">Save</button></div>
</form>
<h2>Organizations</h2>
${orgs.length
  ? html`<ul data-testid="orgs">${orgs.map((o) => html`<li data-org="${o.slug}">${o.name} <span class="muted">(${o.role})</span>${o.role === 'member' ? '' : html` · <a href="${base}/orgs/${o.slug}/members">manage</a>`}</li>`)}</ul>`
  : html`<p class="muted">You do not belong to any organization yet.</p>`}
${requests}
${problems}
<h2>More</h2>
<ul>
<li><a href="${base}/account/password">Change your password</a></li>
<li><a href="${base}/account/sessions">Where you are signed in</a></li>
<li><a href="${base}/account/apps">Apps you connected</a></li>
<li><a href="${base}/account/keys">API keys for scripts and CI</a></li>
</ul>`,
      }),
    );
  });

  app.post('/account', async (c) => {
    const posted = await signedInForm(deps, c, 'account:name');
    if (posted instanceof Response) return posted;
    const { me, form } = posted;
    if (!(await updateName(deps, me.user.id, field(form, 'name')))) return c.redirect(`${base}/account?problem=name_too_long`, 303);
    await audit(deps, { kind: 'account.profile.updated', actor: me.user.id, subject: me.user.id });
    return c.redirect(`${base}/account?done=name_saved`, 303);
  });
}
