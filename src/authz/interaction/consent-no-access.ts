/**
 * The consent page when the person may grant nothing (issue 14): their roles in the chosen
 * organization allow none of the application's permissions. Instead of a page of struck-through
 * permissions with "Approve" as the main button, it says so plainly, explains how an application
 * relates to workspaces, and offers "Request access" (reaches the organization's administrators:
 * identity/access-requests.ts) as the main action and "Cancel" (the client gets `access_denied`,
 * RFC 6749 §4.1.2.1).
 */
import { html, page, type Html } from '../../web/html.ts';
import { scopeMinRole } from '../../identity/permissions.ts';
import type { ConsentResourceRequest, ConsentView } from './consent-page.ts';
import type { AccessRequest } from '../../store/access-requests.ts';

/** True when no resource asked for has a permission (besides its step-up scope) the person may grant. */
export function grantsNothing(requests: readonly ConsentResourceRequest[], allowed: ConsentView['allowed']): boolean {
  if (!requests.length) return false;
  return requests.every((request) => [...allowed(request)].every((scope) => scope === request.resource?.stepUpScope));
}

export function applicationName(requests: readonly ConsentResourceRequest[]): string {
  return requests.map((r) => r.resource?.name ?? r.indicator).join(', ');
}

/** How roles on workspaces unlock an application's permissions (identity/token-permissions.ts), stated once for pages and README alike. */
export function howAccessWorks(orgName: string): Html {
  return html`<details class="how-access-works" data-testid="how-access-works" open><summary>How access to an application works</summary>
<p>An application does not belong to a workspace. Its permissions are unlocked by your roles in ${orgName}: a <strong>viewer</strong> role on any workspace or project unlocks the permissions that read, <strong>editor</strong> those that write, <strong>manager</strong> those that delete. Owners and admins of the organization have them all.</p>
<p>Your token also names the workspaces and projects you hold a role on; tools that act on one of them check your role there.</p></details>`;
}

function needed(requests: readonly ConsentResourceRequest[]): Html {
  return html`<ul class="scopes">${requests.flatMap((request) =>
    request.scopes
      .filter((scope) => scope !== request.resource?.stepUpScope)
      .map((scope) => {
        const definition = request.resource?.scopes.find((s) => s.name === scope);
        return html`<li data-scope="${scope}"><code>${scope}</code> — ${definition ? html`needs the ${scopeMinRole(definition)} role` : 'not offered here'}</li>`;
      }),
  )}</ul>`;
}

export function renderNoAccess(view: ConsentView & { picker: Html; pending: AccessRequest | undefined }): string {
  const app = applicationName(view.requests);
  const org = view.selected.name;
  return page({
    title: 'No access',
    base: view.base,
    body: html`<h1 data-testid="no-access">You have no access to ${app} in ${org}</h1>
<p class="muted">Signed in as ${view.userEmail} · ${view.client.name} asked to connect</p>
${view.error ? html`<p class="error" role="alert">${view.error}</p>` : ''}
<p>Your roles in ${org} allow none of what ${view.client.name} asked for. Ask an administrator of ${org} for access.</p>
${view.pending ? html`<p class="notice" role="status" data-testid="request-pending">You asked already; the request is waiting for an administrator.</p>` : ''}
${needed(view.requests)}
${howAccessWorks(org)}
<form method="post" action="${view.base}/interaction/${view.uid}/consent">
<input type="hidden" name="csrf" value="${view.csrf}">
${view.picker}
<div class="actions">
<button class="primary" type="submit" name="decision" value="request">Request access</button>
<button type="submit" name="decision" value="deny">Cancel</button>
</div>
</form>`,
  });
}

/** After "Request access": where the request went; the only way on is back to the application. */
export function renderRequested(view: { base: string; uid: string; abortCsrf: string; clientName: string; app: string; orgName: string; kind: 'access' | 'client' }): string {
  const asked =
    view.kind === 'client'
      ? html`${view.orgName} lets its members use only the applications its administrators approved, and ${view.clientName} is not one yet. Nothing was shared with it.`
      : html`You asked for access to ${view.app}.`;
  return page({
    title: 'Access requested',
    base: view.base,
    body: html`<h1 data-testid="access-requested">Your request went to the administrators of ${view.orgName}</h1>
<p>${asked} Your <a href="${view.base}/account">account page</a> shows when they decide; once they approve, connect ${view.clientName} again.</p>
<form method="post" action="${view.base}/interaction/${view.uid}/abort">
<input type="hidden" name="csrf" value="${view.abortCsrf}">
<div class="actions"><button class="primary" type="submit">Back to the application</button></div>
</form>`,
  });
}
