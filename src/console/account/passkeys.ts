/**
 * The Passkeys part of `/account/mfa`: the person's passkeys (name, added, last used), "Add a
 * passkey" (identity/passkeys.ts; the box is web/passkey-button.ts) and removing one.
 *
 * Adding a passkey gives a way to sign in without the password, and removing one can take away a
 * second factor, so both need a recent sign-in (RECENT_SIGN_IN): a stolen session cookie alone
 * cannot plant the thief's passkey on the account. Every change is on the audit record.
 */
import type { Hono } from 'hono';
import { registerPasskey, registrationOptions } from '../../identity/passkeys.ts';
import { html, type Html } from '../../web/html.ts';
import { passkeyRegisterButton } from '../../web/passkey-button.ts';
import { csrfValid, field, signedIn, type WebContext, type WebDeps, type WebEnv } from '../../web/pages.ts';
import type { SignedIn } from '../../web/session.ts';
import { browserBinding, jsonForm, jsonLimit, refusal, text, type JsonForm } from '../passkey-json.ts';
import { audit } from './audit.ts';
import { confirmFirst } from '../confirm.ts';
import { csrfField, notice, signedInForm, when } from './layout.ts';

/** How old a sign-in may be to add or remove a passkey (seconds). */
export const RECENT_SIGN_IN = 15 * 60;
const ADD_PURPOSE = 'account:passkey-add';
const REMOVE_PURPOSE = 'account:passkey-remove';

const recent = (deps: WebDeps, me: SignedIn) => deps.now() - me.session.authTime <= RECENT_SIGN_IN;
const signInAgain = (deps: WebDeps) => `${deps.base}/login?next=${encodeURIComponent(`${deps.base}/account/mfa`)}`;

export function passkeyAccountRoutes(app: Hono<WebEnv>, deps: WebDeps): void {
  app.use('/account/passkeys/options', jsonLimit());
  app.use('/account/passkeys/add', jsonLimit());
  app.post('/account/passkeys/options', async (c) => {
    const posted = await addForm(deps, c);
    if (posted instanceof Response) return posted;
    return c.json({ options: await registrationOptions(deps, posted.me.user, browserBinding(deps, c)) });
  });
  app.post('/account/passkeys/add', async (c) => {
    const posted = await addForm(deps, c);
    if (posted instanceof Response) return posted;
    const { me, form } = posted;
    const added = await registerPasskey(deps, me.user, browserBinding(deps, c), form.response, text(form, 'name'));
    if (added.kind === 'refused') {
      deps.audit.record({ kind: 'mfa.refused', actor: me.user.id, subject: me.user.id, reason: `passkey_${added.reason}` });
      const message = added.reason === 'already_registered' ? 'This passkey is registered already.' : 'The passkey could not be added. Try again.';
      return refusal(c, 'passkey_refused', message, { reason: added.reason });
    }
    await audit(deps, { kind: 'mfa.enrolled', actor: me.user.id, subject: me.user.id, reason: 'passkey', details: { passkey: added.credential.name } });
    return c.json({ redirect: `${deps.base}/account/mfa?done=passkey-added` });
  });
  app.post('/account/passkeys/remove', async (c) => {
    const posted = await signedInForm(deps, c, REMOVE_PURPOSE);
    if (posted instanceof Response) return posted;
    const { me, form } = posted;
    if (!recent(deps, me)) return c.redirect(`${deps.base}/account/mfa?done=sign-in-again`, 303);
    const ask = confirmFirst(deps, c, form, REMOVE_PURPOSE, {
      title: 'Remove this passkey?',
      text: 'It no longer signs you in or confirms it is you. If it was your only second factor and an organization of yours requires one, you will be asked to set one up at your next sign-in.',
      button: 'Remove',
      cancel: `${deps.base}/account/mfa`,
    });
    if (ask) return ask;
    const removed = await deps.store.passkeys.remove(me.user.id, field(form, 'id'));
    if (removed) await audit(deps, { kind: 'mfa.disabled', actor: me.user.id, subject: me.user.id, reason: 'passkey', details: { passkey: field(form, 'id') } });
    return c.redirect(`${deps.base}/account/mfa?done=${removed ? 'passkey-removed' : 'passkey-unknown'}`, 303);
  });
}

/** A signed-in person's JSON post to add a passkey, with a recent sign-in; else the refusal. */
async function addForm(deps: WebDeps, c: WebContext): Promise<{ me: SignedIn; form: JsonForm } | Response> {
  const me = await signedIn(deps, c);
  if (!me) return refusal(c, 'authentication_required', 'Sign in first.', { location: signInAgain(deps) });
  const form = await jsonForm(c);
  if (!form || !csrfValid(deps, c, form.csrf, ADD_PURPOSE)) return refusal(c, 'csrf_failed', 'This page expired. Reload it and try again.');
  if (!recent(deps, me)) return refusal(c, 'reauthentication_required', 'Sign in again to add a passkey.', { location: signInAgain(deps) });
  return { me, form };
}

/** Notices after the passkey forms (layout.ts notice). */
export const PASSKEY_NOTICES: Record<string, string> = {
  'passkey-added': 'The passkey was added.',
  'passkey-removed': 'The passkey was removed.',
  'passkey-unknown': 'That passkey was removed already.',
  'sign-in-again': 'Sign out and in again to change your passkeys: your sign-in is older than 15 minutes.',
};

/** The section: the list (name, added, last used, remove) and "Add a passkey". */
export async function passkeySection(deps: WebDeps, c: WebContext, me: SignedIn): Promise<Html> {
  const passkeys = await deps.store.passkeys.forUser(me.user.id);
  const rows = passkeys.map(
    (p) => html`<tr data-testid="passkey" data-id="${p.id}"><td>${p.name}</td><td>${when(p.createdAt)}</td><td>${when(p.lastUsedAt)}</td>
<td><form method="post" action="${deps.base}/account/passkeys/remove" class="inline">${csrfField(deps, c, REMOVE_PURPOSE)}<input type="hidden" name="id" value="${p.id}"><button type="submit" class="danger" data-testid="passkey-remove">Remove</button></form></td></tr>`,
  );
  return html`<h2 id="passkeys">Passkeys</h2>
${notice(c, PASSKEY_NOTICES)}
<p>A passkey signs you in with your device's screen lock or a security key: without your password, or as the second step after it.</p>
${passkeys.length
  ? html`<div class="table-scroll" tabindex="0"><table data-testid="passkeys"><thead><tr><th>Name</th><th>Added</th><th>Last used</th><th></th></tr></thead><tbody>${rows}</tbody></table></div>`
  : html`<p class="muted" data-testid="passkeys-none">No passkeys yet.</p>`}
${passkeyRegisterButton(deps, c, { options: `${deps.base}/account/passkeys/options`, action: `${deps.base}/account/passkeys/add`, purpose: ADD_PURPOSE })}`;
}
