/**
 * The page an invitation link opens: `<base>/invitations/<token>` (identity/invitations.ts).
 *
 * GET shows the organization and the role. Who may accept is the person the invitation names —
 * a signed-in user with that e-mail (case-insensitive) — so the page offers, depending on who
 * holds the link:
 * - signed in as the invited address: "Join";
 * - signed in as someone else: nothing to accept (sign out first);
 * - not signed in, an account exists for the address: its password (throttled like every sign-in);
 * - not signed in, no account yet: a name and a new password create it.
 * POST does what the page offered (CSRF token bound to this browser), then signs the person in
 * and sends them home. A used, revoked, expired or unknown link is 410 and says so.
 */
import type { Invitation } from '../store/invitations.ts';
import type { Org } from '../store/orgs.ts';
import type { User } from '../store/users.ts';
import { Hono } from 'hono';
import { PortcullisError, isPortcullisError, isRefusal } from '../core/errors.ts';
import { hashPassword } from '../core/crypto.ts';
import { identityDeps } from '../identity/context.ts';
import { acceptInvitation, emailMatches, findInvitation } from '../identity/invitations.ts';
import { html, page } from '../web/html.ts';
import { MIN_PASSWORD_LENGTH, passwordProblem } from './pages.ts';
import { checkPassword } from '../identity/password-login.ts';
import { clientIp, csrfToken, csrfValid, field, setSessionCookie, signedIn, type WebContext, type WebDeps, type WebEnv } from '../web/pages.ts';

const PURPOSE = 'invitation';

type Offer = { kind: 'join'; user: User } | { kind: 'other'; user: User } | { kind: 'sign-in' } | { kind: 'create' };

export function invitationPages(deps: WebDeps): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  const base = deps.base;
  const ids = identityDeps(deps);

  const gone = (c: WebContext) =>
    c.html(
      page({ title: 'Invitation no longer valid', base, id: 'invitation-gone', body: html`<h1>This invitation is no longer valid</h1><p>It was used already, revoked, or it expired. Ask whoever invited you for a new one.</p>` }),
      410,
    );

  async function offerFor(c: WebContext, invitation: Invitation): Promise<Offer> {
    const me = await signedIn(deps, c);
    if (me) return emailMatches(invitation, me.user) ? { kind: 'join', user: me.user } : { kind: 'other', user: me.user };
    return (await deps.store.users.findByEmail(invitation.email)) ? { kind: 'sign-in' } : { kind: 'create' };
  }

  function render(c: WebContext, token: string, invitation: Invitation, org: Org, offer: Offer, error?: string): string {
    const action = `${base}/invitations/${token}`;
    const hidden = html`<input type="hidden" name="csrf" value="${csrfToken(deps, c, PURPOSE)}">`;
    const intro = html`<h1>Join ${org.name}</h1>
<p>You are invited to <strong>${org.name}</strong> as <strong>${invitation.role}</strong>. The invitation is for <strong>${invitation.email}</strong>.</p>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}`;
    let form;
    switch (offer.kind) {
      case 'join':
        form = html`<form method="post" action="${action}">${hidden}<div class="actions"><button class="primary" type="submit">Join ${org.name}</button></div></form>`;
        break;
      case 'other':
        form = html`<p>You are signed in as <strong>${offer.user.email}</strong>. Only ${invitation.email} can accept this invitation: sign out, then open the link again.</p>`;
        break;
      case 'sign-in':
        form = html`<form method="post" action="${action}">${hidden}
<label for="password">Password for ${invitation.email}</label><input id="password" name="password" type="password" autocomplete="current-password" required autofocus>
<div class="actions"><button class="primary" type="submit">Sign in and join</button></div></form>`;
        break;
      case 'create':
        form = html`<form method="post" action="${action}">${hidden}
<p class="muted">Create your account to join.</p>
<label for="name">Name</label><input id="name" name="name" type="text" autocomplete="name">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="new-password" minlength="${MIN_PASSWORD_LENGTH}" required>
<label for="confirm">Repeat the password</label><input id="confirm" name="confirm" type="password" autocomplete="new-password" required>
<div class="actions"><button class="primary" type="submit">Create account and join</button></div></form>`;
        break;
    }
    return page({ title: `Join ${org.name}`, base, id: 'invitation', body: html`${intro}${form}` });
  }

  app.get('/invitations/:token', async (c) => {
    const token = c.req.param('token');
    const found = await findInvitation(ids, token);
    if (!found) return gone(c);
    return c.html(render(c, token, found.invitation, found.org, await offerFor(c, found.invitation)));
  });

  app.post('/invitations/:token', async (c) => {
    const token = c.req.param('token');
    const found = await findInvitation(ids, token);
    if (!found) return gone(c);
    const { invitation, org } = found;
    const offer = await offerFor(c, invitation);
    const form = await c.req.parseBody();
    const again = (status: 400 | 401 | 403 | 409 | 429, error: string) => c.html(render(c, token, invitation, org, offer, error), status);
    if (!csrfValid(deps, c, form.csrf, PURPOSE)) return again(403, 'The form expired; please try again.');

    let user: User;
    let signIn = false;
    const ip = clientIp(deps, c);
    switch (offer.kind) {
      case 'other':
        return again(403, `This invitation is for ${invitation.email}.`);
      case 'join':
        user = offer.user;
        break;
      case 'sign-in': {
        const check = await checkPassword(deps, invitation.email, field(form, 'password'), ip);
        if (check.kind === 'locked') {
          c.header('retry-after', String(check.retryAfter));
          return again(429, `Too many failed attempts. Try again in ${check.retryAfter} seconds.`);
        }
        if (check.kind === 'wrong') return again(401, 'Wrong password.');
        user = check.user;
        signIn = true;
        break;
      }
      case 'create': {
        const problem = passwordProblem(field(form, 'password'), field(form, 'confirm'));
        if (problem) return again(400, problem);
        const name = field(form, 'name').trim().slice(0, 200) || null;
        try {
          user = await deps.store.users.create({ email: invitation.email, name, passwordHash: await hashPassword(field(form, 'password')) });
        } catch (err) {
          // Created meanwhile (another tab): sign in with it instead.
          if (isPortcullisError(err) && err.code === 'conflict') return c.html(render(c, token, invitation, org, { kind: 'sign-in' }, 'That account exists now: sign in with its password.'), 409);
          throw err;
        }
        signIn = true;
        break;
      }
    }

    try {
      await acceptInvitation(ids, token, user);
    } catch (err) {
      if (!(isRefusal(err))) throw err;
      if (err.code === 'invitation_invalid') return gone(c);
      if (err.code !== 'already_member') return again(err.code === 'forbidden' ? 403 : 409, err.message);
      // Already a member: nothing to accept, and nothing lost by going on.
    }
    if (signIn) {
      const session = await deps.sessions.create(user, { amr: ['pwd'], ip, userAgent: c.req.header('user-agent') ?? null });
      setSessionCookie(c, session.value, deps.sessions.ttl);
    }
    deps.log.info({ event: 'invitation.accepted', org: org.id, user: user.id }, 'invitation accepted');
    return c.redirect(`${base}/`, 303);
  });

  return app;
}
