/**
 * `/setup?token=…`: the one-time link printed while no account exists creates the first
 * administrator, who owns the Default organization (identity/first-run.ts), and signs them in.
 */
import type { Hono } from 'hono';
import { completeSetup, setupOpen } from '../identity/first-run.ts';
import { displayName } from '../identity/new-users.ts';
import { html, page } from '../web/html.ts';
import { clientIp, csrfToken, csrfValid, field, setSessionCookie, type WebContext, type WebDeps, type WebEnv } from '../web/pages.ts';
import { newPasswordFields, setNewPassword } from './password-fields.ts';

export function setupRoutes(app: Hono<WebEnv>, deps: WebDeps): void {
  const base = deps.base;

  const setupForm = (c: WebContext, token: string, error?: string, values: { email?: string; name?: string } = {}) =>
    page({
      title: 'Set up Portcullis',
      base,
      body: html`<h1>Create the administrator account</h1>
<p>This link works once. The account you create here manages this Portcullis server.</p>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="${base}/setup">
<input type="hidden" name="csrf" value="${csrfToken(deps, c, 'setup')}">
<input type="hidden" name="token" value="${token}">
<label for="name">Name</label><input id="name" name="name" type="text" autocomplete="name" value="${values.name ?? ''}">
<label for="email">E-mail</label><input id="email" name="email" type="email" autocomplete="username" required value="${values.email ?? ''}">
${newPasswordFields('first')}
<div class="actions"><button class="primary" type="submit">Create account</button></div>
</form>`,
    });

  const setupGone = (c: WebContext) =>
    c.html(
      page({ title: 'Link used', base, body: html`<h1>This setup link is no longer valid</h1><p>It was used already or it expired. Restart Portcullis to print a new one while no account exists, or run <code>portcullis admin create-user</code>.</p>` }),
      410,
    );

  app.get('/setup', async (c) => {
    const token = c.req.query('token') ?? '';
    if (!(await setupOpen(deps, token))) return setupGone(c);
    return c.html(setupForm(c, token));
  });

  app.post('/setup', async (c) => {
    const form = await c.req.parseBody();
    const token = field(form, 'token');
    if (!csrfValid(deps, c, form.csrf, 'setup')) return c.html(setupForm(c, token, 'The form expired; please try again.'), 403);
    const email = field(form, 'email').trim();
    const name = displayName(field(form, 'name'));
    const set = await setNewPassword(form, (password) => completeSetup(deps, token, { email, name, password }));
    if (!set.ok) return c.html(setupForm(c, token, set.problem, { email, name: name ?? '' }), 400);
    if (!set.value) return setupGone(c);
    const { user, org } = set.value;
    const session = await deps.sessions.create(user, { amr: ['pwd'], ip: clientIp(deps, c), userAgent: c.req.header('user-agent') ?? null });
    setSessionCookie(c, session.value, deps.sessions.ttl);
    deps.log.info({ event: 'admin.created', user: user.id, org: org.id }, 'administrator created through the setup link');
    return c.redirect(`${base}/`, 303);
  });
}
