/**
 * The consent page, as a view: what the client will be able to do, in plain English, grouped by
 * application with the tools each permission enables; which organization it will act for (a
 * picker when the user has several); and which permissions the user's role there does not allow
 * (shown, unticked, with the reason, and not submittable). Plain HTML forms: it works without
 * JavaScript (our CSP forbids script anyway).
 */
import type { ProtectedResource } from '../../core/protected-resource.ts';
import { html, page, type Html } from '../../web/html.ts';
import type { OrgAccess } from '../../identity/token-permissions.ts';
import { scopeMinRole } from '../../identity/permissions.ts';
import { accountScopes, clientCard, scopeCheckbox, scopeDetail, scopeText, staysConnectedNote, unverifiedWarning, type ClientView } from '../../web/approval.ts';
import type { MemberOrg } from '../grant-org.ts';

export type ConsentClient = Omit<ClientView, 'id'>;

export interface ConsentResourceRequest {
  /** The resource indicator as the client named it. */
  indicator: string;
  resource: ProtectedResource | undefined;
  /** Scopes the user is asked for (not yet granted). */
  scopes: string[];
}

export interface ConsentView {
  base: string;
  uid: string;
  csrf: string;
  client: ConsentClient;
  userEmail: string;
  /** Where the user is sent back to (a host, or an app's scheme). */
  returnTo: string | undefined;
  staysConnectedDays: number;
  requests: ConsentResourceRequest[];
  oidcScopes: string[];
  /** The orgs the user may pick (at least one), the picked one and the user's access in it. */
  orgs: MemberOrg[];
  selected: MemberOrg;
  access: OrgAccess;
  /** Scopes of a resource the user's access in `selected` allows. */
  allowed: (request: ConsentResourceRequest) => ReadonlySet<string>;
  /** Shown above the form (a posted org that cannot be used, …). */
  error?: string;
  /** The picked org approves clients itself and has not approved this one (identity/client-approvals.ts). */
  awaitsApproval?: boolean;
}

const ROLE_TEXT: Record<string, string> = { owner: 'an owner', admin: 'an administrator', member: 'a member' };

export function orgPicker(view: Pick<ConsentView, 'orgs' | 'selected' | 'access'>): Html {
  if (view.orgs.length === 1) {
    return html`<input type="hidden" name="org" value="${view.selected.id}">
<p>For the organization <strong>${view.selected.name}</strong>, where you are ${ROLE_TEXT[view.access.role]}.</p>`;
  }
  return html`<fieldset class="orgs">
<legend>Act for which organization?</legend>
${view.orgs.map(
  (org) => html`<div><label class="choice"><input type="radio" name="org" value="${org.id}"${org.id === view.selected.id ? html` checked` : ''}> ${org.name}</label> <span class="muted">${org.slug} · you are ${ROLE_TEXT[org.role]}</span></div>`,
)}
<p class="muted">What you can allow depends on your role in the organization. The list below is for <strong>${view.selected.name}</strong>.</p>
<button type="submit" name="decision" value="switch">Show permissions for the chosen organization</button>
</fieldset>`;
}

/**
 * Said before the person presses Approve: in "admin approval" mode their consent records a request
 * to the organization's administrators, not a grant — the client gets nothing until one approves.
 */
function approvalNotice(view: ConsentView): Html | string {
  if (!view.awaitsApproval) return '';
  return html`<p class="notice" role="note" data-testid="approval-needed"><strong>${view.selected.name}</strong> has to approve ${view.client.name} before it can act for the organization. If you press Approve, your request goes to its administrators; ${view.client.name} gets access only once one of them approves it, and you will be told.</p>`;
}

function scopeItem(view: ConsentView, request: ConsentResourceRequest, index: number, scope: string, allowed: ReadonlySet<string>): Html {
  const { resource } = request;
  if (allowed.has(scope)) return scopeCheckbox(resource, scope, `${index}|${scope}`);
  const definition = resource?.scopes.find((s) => s.name === scope);
  const text = resource ? scopeText(resource, scope) : scope;
  const reason = definition
    ? `Not available: it needs the ${scopeMinRole(definition)} role in ${view.selected.name}, which you do not have.`
    : 'Not available: this permission is not offered here.';
  return html`<li class="unavailable" data-scope="${scope}"><span class="scope-text">${text}</span>
<span class="reason">${reason}</span>
${scopeDetail(resource, scope)}</li>`;
}

export function renderConsent(view: ConsentView): string {
  const { client, base, uid } = view;
  return page({
    title: 'Allow access?',
    base,
    body: html`${clientCard(client, `${client.name} wants to access your account`, view.userEmail)}
${view.error ? html`<p class="error" role="alert">${view.error}</p>` : ''}
${unverifiedWarning(client)}
${view.returnTo ? html`<p>After you decide, you will be sent back to <strong>${view.returnTo}</strong>.</p>` : ''}
${staysConnectedNote(client, view.staysConnectedDays)}
${approvalNotice(view)}
<form method="post" action="${base}/interaction/${uid}/consent">
<input type="hidden" name="csrf" value="${view.csrf}">
${orgPicker(view)}
${view.requests.map((request, index) => {
  const allowed = view.allowed(request);
  return html`<h2>${request.resource?.name ?? request.indicator}</h2>
<p class="muted">${request.indicator}</p>
<ul class="scopes">
${request.scopes.map((scope) => scopeItem(view, request, index, scope, allowed))}
</ul>`;
})}
${accountScopes(view.oidcScopes)}
<div class="actions">
<button class="primary" type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</div>
</form>`,
  });
}

/** No organization of the user lets this client act for it: say so; the only way on is back. */
export function renderNoOrg(view: { base: string; uid: string; abortCsrf: string; clientName: string; userEmail: string; refused: MemberOrg[] }): string {
  return page({
    title: 'No organization can use this application',
    base: view.base,
    body: html`<h1>No organization can use ${view.clientName}</h1>
<p class="muted">Signed in as ${view.userEmail}</p>
${view.refused.length
  ? html`<p>${view.clientName} is not allowed to act for ${view.refused.map((o, i) => html`${i ? ', ' : ''}<strong>${o.name}</strong>`)}. An administrator of the organization decides which applications may connect.</p>`
  : html`<p>You do not belong to any organization yet. Ask an administrator to invite you.</p>`}
<form method="post" action="${view.base}/interaction/${view.uid}/abort">
<input type="hidden" name="csrf" value="${view.abortCsrf}">
<div class="actions"><button class="primary" type="submit">Back to the application</button></div>
</form>`,
  });
}
