/**
 * `/account/sessions`: every browser where you are signed in (address, browser, since, last
 * seen; this one marked), "Sign out" for one, and "Sign out everywhere" — which also ends the
 * engine's single-sign-on sessions, but leaves connected apps connected (the page says so).
 */
import type { Hono } from 'hono';
import { endSession, listSessions, signOutEverywhere, type SessionView } from '../../identity/account.ts';
import { ssoConnections } from '../../identity/connection-directory.ts';
import { audit } from './audit.ts';
import { confirmFirst } from '../confirm.ts';
import { html } from '../../web/html.ts';
import { clearSessionCookie, field, type WebDeps, type WebEnv } from '../../web/pages.ts';
import { csrfField, notFound, notice, requireSignedIn, signedInForm, signedInPage, when } from './layout.ts';

/** A short readable name for a user-agent string ("Chrome on Linux"); the full string is in the title. */
function browserName(userAgent: string | null): string {
  if (!userAgent) return 'Unknown browser';
  const browser = /Edg\//.test(userAgent) ? 'Edge' : /Firefox\//.test(userAgent) ? 'Firefox' : /Chrom(e|ium)\//.test(userAgent) ? 'Chrome' : /Safari\//.test(userAgent) ? 'Safari' : 'A browser';
  const os = /Windows/.test(userAgent) ? 'Windows' : /Mac OS X/.test(userAgent) ? 'macOS' : /Android/.test(userAgent) ? 'Android' : /iPhone|iPad/.test(userAgent) ? 'iOS' : /Linux/.test(userAgent) ? 'Linux' : undefined;
  return os ? `${browser} on ${os}` : browser;
}

/**
 * How the person signed in, from the session's method values (RFC 8176 §2: pwd, otp, hwk; `ext`
 * and SSO-asserted `mfa` after a connection): "Password + one-time code", "Passkey", "Single
 * sign-on: Acme Okta". A connection since deleted is named by its id.
 */
function signInMethod(deps: WebDeps, s: Pick<SessionView, 'amr' | 'ssoConnection'>): string {
  if (s.ssoConnection) return `Single sign-on: ${ssoConnections(deps.config).get(s.ssoConnection)?.name ?? s.ssoConnection}`;
  const first = s.amr.includes('pwd') ? 'Password' : s.amr.includes('hwk') ? 'Passkey' : 'Unknown';
  const second = s.amr.includes('pwd') ? [s.amr.includes('otp') ? 'one-time code' : '', s.amr.includes('hwk') ? 'passkey' : ''].filter(Boolean) : [];
  return [first, ...second].join(' + ');
}

export function sessionRoutes(app: Hono<WebEnv>, deps: WebDeps): void {
  const base = deps.base;

  app.get('/account/sessions', async (c) => {
    const me = await requireSignedIn(deps, c);
    if (me instanceof Response) return me;
    const sessions = await listSessions(deps, me.user.id, me.session.id);
    return c.html(
      await signedInPage(deps, c, me, {
        title: 'Sign-in sessions',
        active: 'sessions',
        body: html`<h1>Where you are signed in</h1>
${notice(c, { session_ended: 'That browser was signed out.' })}
<div class="table-scroll" tabindex="0"><table data-testid="sessions">
<thead><tr><th>Device</th><th>Address</th><th>Signed in</th><th>Last seen</th><th>How</th><th></th></tr></thead>
<tbody>
${sessions.map(
  (s) => html`<tr data-testid="session" data-ref="${s.ref}"${s.current ? html` data-current="true"` : ''}>
<td title="${s.userAgent ?? ''}">${browserName(s.userAgent)}${s.current ? html` <strong>(this browser)</strong>` : ''}</td>
<td>${s.ip ?? '—'}</td><td>${when(s.createdAt)}</td><td>${when(s.lastSeenAt)}</td><td data-testid="sign-in-method">${signInMethod(deps, s)}</td>
<td><form method="post" action="${base}/account/sessions/end" class="inline">${csrfField(deps, c, 'sessions:end')}<input type="hidden" name="session" value="${s.ref}"><button type="submit" data-testid="end-session">Sign out</button></form></td>
</tr>`,
)}
</tbody>
</table></div>
<form method="post" action="${base}/account/sessions/end-all">
${csrfField(deps, c, 'sessions:end-all')}
<p class="muted">Signing out everywhere ends every browser session, this one included. Apps you connected stay connected: disconnect them on <a href="${base}/account/apps">Connected apps</a>.</p>
<div class="actions"><button class="danger" type="submit" data-testid="end-all">Sign out everywhere</button></div>
</form>`,
      }),
    );
  });

  app.post('/account/sessions/end', async (c) => {
    const posted = await signedInForm(deps, c, 'sessions:end');
    if (posted instanceof Response) return posted;
    const { me, form } = posted;
    const ask = confirmFirst(deps, c, form, 'sessions:end', {
      title: 'Sign out that browser?',
      text: 'Whoever uses it has to sign in again there. Apps you connected from it stay connected.',
      button: 'Sign out',
      cancel: `${base}/account/sessions`,
    });
    if (ask) return ask;
    const ended = await endSession(deps, me.user.id, field(form, 'session'));
    // Another person's session, or one that is gone: nothing to say about it.
    if (!ended.ended) return notFound(deps, c);
    await audit(deps, { kind: 'account.session.ended', actor: me.user.id, subject: me.user.id });
    if (ended.id === me.session.id) {
      clearSessionCookie(c);
      return c.redirect(`${base}/login`, 303);
    }
    return c.redirect(`${base}/account/sessions?done=session_ended`, 303);
  });

  app.post('/account/sessions/end-all', async (c) => {
    const posted = await signedInForm(deps, c, 'sessions:end-all');
    if (posted instanceof Response) return posted;
    const { me, form } = posted;
    const ask = confirmFirst(deps, c, form, 'sessions:end-all', {
      title: 'Sign out everywhere?',
      text: 'Every browser where you are signed in is signed out, this one included. Apps you connected stay connected: disconnect them on Connected apps.',
      button: 'Sign out everywhere',
      cancel: `${base}/account/sessions`,
    });
    if (ask) return ask;
    await signOutEverywhere(deps, me.user.id);
    clearSessionCookie(c);
    await audit(deps, { kind: 'account.sessions.ended', actor: me.user.id, subject: me.user.id });
    deps.log.info({ event: 'sessions.ended', user: me.user.id }, 'signed out everywhere');
    return c.redirect(`${base}/login`, 303);
  });
}
