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
import type { User } from '../store/users.ts';
import { Hono } from 'hono';
import { identityDeps } from '../identity/context.ts';
import { acceptInvitation, createInvitedAccount, emailMatches, findInvitation } from '../identity/invitations.ts';
import { displayName } from '../identity/new-users.ts';
import { checkPassword } from '../identity/password-login.ts';
import { clientIp, csrfValid, field, signedIn, type WebContext, type WebDeps, type WebEnv } from '../web/pages.ts';
import { passwordSignedIn } from '../web/second-factor.ts';
import { INVITATION_PURPOSE, invitationGone, invitationView, type InvitationOnPage, type Offer } from './invitation-views.ts';
import { setNewPassword } from './password-fields.ts';
import { formRefusal } from './refusals.ts';
import { connections, ssoRequiredPage, ssoStartPath } from '../web/sso-routes.ts';

/** Who joins, and whether they signed in on this page — or the page already due. */
type Joiner = { user: User; signIn: boolean } | Response;

/**
 * An invited address in a domain a connection owns signs in (or is created) at its IdP, then
 * comes back here signed in to join: no Portcullis password for it.
 */
function toSso(c: WebContext, deps: WebDeps, invitation: Invitation, offer: Offer, token: string): Response | undefined {
  const connection = offer.kind === 'sign-in' || offer.kind === 'create' ? connections(deps).forEmail(invitation.email) : undefined;
  return connection && c.redirect(ssoStartPath(deps, connection, `${deps.base}/invitations/${token}`, invitation.email), 303);
}

export function invitationPages(deps: WebDeps): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  const ids = identityDeps(deps);

  async function offerFor(c: WebContext, invitation: Invitation): Promise<Offer> {
    const me = await signedIn(deps, c);
    if (me) return emailMatches(invitation, me.user) ? { kind: 'join', user: me.user } : { kind: 'other', user: me.user };
    return (await deps.store.users.findByEmail(invitation.email)) ? { kind: 'sign-in' } : { kind: 'create' };
  }

  /** The person the posted form makes of whoever holds the link, as `offer` proposed. */
  async function joiner(c: WebContext, shown: InvitationOnPage, offer: Offer, form: Record<string, unknown>): Promise<Joiner> {
    const again = (status: 400 | 401 | 403 | 409 | 429, error: string, as = offer) => c.html(invitationView(deps, c, shown, as, error), status);
    const { invitation } = shown;
    switch (offer.kind) {
      case 'other':
        return again(403, `This invitation is for ${invitation.email}.`);
      case 'join':
        return { user: offer.user, signIn: false };
      case 'sign-in': {
        const check = await checkPassword(deps, invitation.email, field(form, 'password'), clientIp(deps, c));
        if (check.kind === 'locked') {
          c.header('retry-after', String(check.retryAfter));
          return again(429, `Too many failed attempts. Try again in ${check.retryAfter} seconds.`);
        }
        if (check.kind === 'wrong') return again(401, 'Wrong password.');
        if (check.kind === 'sso_required') return ssoRequiredPage(c, deps, check.connection, `${deps.base}/invitations/${shown.token}`);
        return { user: check.user, signIn: true };
      }
      case 'create': {
        const name = displayName(field(form, 'name'));
        const set = await setNewPassword(form, (password) => createInvitedAccount(ids, invitation, { name, password }));
        if (!set.ok) return again(400, set.problem);
        // Created meanwhile (another tab): sign in with it instead.
        if (!set.value) return again(409, 'That account exists now: sign in with its password.', { kind: 'sign-in' });
        return { user: set.value, signIn: true };
      }
    }
  }

  app.get('/invitations/:token', async (c) => {
    const token = c.req.param('token');
    const found = await findInvitation(ids, token);
    if (!found) return invitationGone(deps, c);
    const offer = await offerFor(c, found.invitation);
    return toSso(c, deps, found.invitation, offer, token) ?? c.html(invitationView(deps, c, { token, ...found }, offer));
  });

  app.post('/invitations/:token', async (c) => {
    const token = c.req.param('token');
    const found = await findInvitation(ids, token);
    if (!found) return invitationGone(deps, c);
    const shown = { token, ...found };
    const offer = await offerFor(c, found.invitation);
    const viaSso = toSso(c, deps, found.invitation, offer, token);
    if (viaSso) return viaSso;
    const form = await c.req.parseBody();
    if (!csrfValid(deps, c, form.csrf, INVITATION_PURPOSE)) return c.html(invitationView(deps, c, shown, offer, 'The form expired; please try again.'), 403);
    const joining = await joiner(c, shown, offer, form);
    if (joining instanceof Response) return joining;
    const { user, signIn } = joining;
    try {
      await acceptInvitation(ids, token, user);
    } catch (err) {
      const refused = formRefusal(err);
      if (refused.code === 'invitation_invalid') return invitationGone(deps, c);
      // Already a member: nothing to accept, and nothing lost by going on.
      if (refused.code !== 'already_member') return c.html(invitationView(deps, c, shown, offer, refused.text), refused.code === 'forbidden' ? 403 : 409);
    }
    deps.log.info({ event: 'invitation.accepted', org: found.org.id, user: user.id }, 'invitation accepted');
    // The session waits for a second factor when the person has (or must enrol) one: web/second-factor.ts.
    const started = signIn ? await passwordSignedIn(deps, c, user, { next: `${deps.base}/` }) : undefined;
    return started instanceof Response ? started : c.redirect(`${deps.base}/`, 303);
  });

  return app;
}
