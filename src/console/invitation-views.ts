/**
 * What the invitation page (console/invitation-page.ts) shows: the organization and the role,
 * then what the person holding the link can do — join, sign in and join, create an account and
 * join, or nothing (signed in as someone else) — or that the link is no longer valid.
 */
import type { Invitation } from '../store/invitations.ts';
import type { Org } from '../store/orgs.ts';
import type { User } from '../store/users.ts';
import { html, page, type Html } from '../web/html.ts';
import { csrfToken, type WebContext, type WebDeps } from '../web/pages.ts';
import { signInForm } from '../web/sign-in-form.ts';
import { newPasswordFields } from './password-fields.ts';

export const INVITATION_PURPOSE = 'invitation';

export type Offer = { kind: 'join'; user: User } | { kind: 'other'; user: User } | { kind: 'sign-in' } | { kind: 'create' };

export interface InvitationOnPage {
  token: string;
  invitation: Invitation;
  org: Org;
}

function offerForm(deps: WebDeps, c: WebContext, { token, invitation, org }: InvitationOnPage, offer: Offer): Html {
  const action = `${deps.base}/invitations/${token}`;
  const hidden = html`<input type="hidden" name="csrf" value="${csrfToken(deps, c, INVITATION_PURPOSE)}">`;
  switch (offer.kind) {
    case 'join':
      return html`<form method="post" action="${action}">${hidden}<div class="actions"><button class="primary" type="submit">Join ${org.name}</button></div></form>`;
    case 'other':
      return html`<p>You are signed in as <strong>${offer.user.email}</strong>. Only ${invitation.email} can accept this invitation: sign out, then open the link again.</p>`;
    case 'sign-in':
      return signInForm({ action, hidden, email: invitation.email, emailFixed: true, submit: 'Sign in and join' });
    case 'create':
      return html`<form method="post" action="${action}">${hidden}
<p class="muted">Create your account to join.</p>
<label for="name">Name</label><input id="name" name="name" type="text" autocomplete="name">
${newPasswordFields('first')}
<div class="actions"><button class="primary" type="submit">Create account and join</button></div></form>`;
  }
}

/** The invitation, and the form `offer` calls for (with `error` above it after a failed post). */
export function invitationView(deps: WebDeps, c: WebContext, shown: InvitationOnPage, offer: Offer, error?: string): string {
  const { invitation, org } = shown;
  const intro = html`<h1>Join ${org.name}</h1>
<p>You are invited to <strong>${org.name}</strong> as <strong>${invitation.role}</strong>. The invitation is for <strong>${invitation.email}</strong>.</p>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}`;
  return page({ title: `Join ${org.name}`, base: deps.base, id: 'invitation', body: html`${intro}${offerForm(deps, c, shown, offer)}` });
}

/** 410: used already, revoked, expired or unknown. */
export function invitationGone(deps: WebDeps, c: WebContext): Response {
  return c.html(
    page({ title: 'Invitation no longer valid', base: deps.base, id: 'invitation-gone', body: html`<h1>This invitation is no longer valid</h1><p>It was used already, revoked, or it expired. Ask whoever invited you for a new one.</p>` }),
    410,
  );
}
