/**
 * Approving or denying a device request — the engine writes. Approving does what the engine's own
 * flow does at its end (oidc-provider lib/actions/authorization/device.js): a Grant for the client
 * with the approved scopes on the request's resource, and the DeviceCode marked with the account,
 * grant, sign-in time, acr and amr — so the device's next poll gets tokens. The grant is bound to
 * the organization the person chose (grant-org.ts). Denying sets `access_denied` on the code.
 */
import type { Store } from '../../store/store.ts';
import type { SignedIn } from '../../web/session.ts';
import { tokenPermissions } from '../../identity/token-permissions.ts';
import type { WebDeps } from '../../web/pages.ts';
import { bindGrantToOrg, clientAwaitsApproval, orgChoices, type MemberOrg } from '../grant-org.ts';
import { acrFor } from '../protocol.ts';
import type { DeviceRequest } from './requests.ts';

/** What the confirmation page offers: the orgs the client may act for, and the scopes shown. */
export interface DeviceChoices {
  offered: MemberOrg[];
  /** Scopes asked for that the user's role allows in at least one offered organization. */
  shown: string[];
}

export async function deviceChoices(store: Store, request: DeviceRequest, userId: string): Promise<DeviceChoices> {
  const choices = await orgChoices(store, userId, request.client.id);
  // The device page has no "ask the administrators" step: an org that has yet to approve the client ("admin approval") is not offered.
  const waiting = await Promise.all(choices.offered.map((org) => clientAwaitsApproval(store, org, request.client.id)));
  const offered = choices.offered.filter((_org, i) => !waiting[i]);
  const allowedSomewhere = new Set<string>();
  if (request.resource) {
    for (const org of offered) {
      const permissions = await tokenPermissions(store, userId, org.id, request.resource);
      for (const scope of permissions?.allowedScopes ?? []) allowedSomewhere.add(scope);
    }
  }
  return { offered, shown: request.resourceScopes.filter((s) => allowedSomewhere.has(s)) };
}

/** The org the user chose: one of those offered; with a single offer, that one. */
export function pickOrg(offered: MemberOrg[], chosen: unknown): MemberOrg | undefined {
  if (offered.length === 1 && (chosen === undefined || chosen === offered[0]!.id)) return offered[0];
  return typeof chosen === 'string' ? offered.find((org) => org.id === chosen) : undefined;
}

type DecisionDeps = Pick<WebDeps, 'provider' | 'store' | 'now' | 'log' | 'audit'>;

export async function denyDevice(deps: DecisionDeps, request: DeviceRequest, me: SignedIn): Promise<void> {
  const { code } = request;
  Object.assign(code, { error: 'access_denied', errorDescription: 'The user denied the request.' });
  await code.save();
  deps.log.info({ event: 'device.denied', user: me.user.id, client: code.clientId }, 'device request denied');
}

/** Approve the scopes ticked (`ticked`) that the user's role in `org` allows; the rest are refused. Answers the scopes granted. */
export async function approveDevice(deps: DecisionDeps, request: DeviceRequest, me: SignedIn, org: MemberOrg, ticked: ReadonlySet<string>): Promise<string[]> {
  const allowed = request.resource ? new Set((await tokenPermissions(deps.store, me.user.id, org.id, request.resource))?.allowedScopes ?? []) : new Set<string>();
  const granted = request.resourceScopes.filter((s) => ticked.has(s) && allowed.has(s));
  const refused = request.resourceScopes.filter((s) => !granted.includes(s));
  const grantId = await saveGrant(deps, request, me.user.id, granted, refused);
  await bindGrantToOrg(deps.store, { grantId, userId: me.user.id, clientId: request.client.id, orgId: org.id }, deps.now());
  const { code } = request;
  // As the engine's own device flow marks an approved code (lib/actions/authorization/device.js).
  Object.assign(code, {
    accountId: me.user.id,
    acr: acrFor(me.session.amr),
    amr: me.session.amr,
    authTime: me.session.authTime,
    grantId,
    scope: [...request.oidcScopes, ...granted].join(' '),
    ...(request.resource ? { resource: request.resource.url } : {}),
  });
  await code.save();
  deps.log.info({ event: 'device.approved', user: me.user.id, client: code.clientId, grant: grantId, org: org.id }, 'device request approved');
  await deps.audit.write({ kind: 'consent.given', orgId: org.id, actor: me.user.id, subject: me.user.id, clientId: request.client.id, reason: 'device', details: { grantId, scopes: granted, resources: request.resource ? [request.resource.url] : [] } });
  return granted;
}

/** The engine Grant for the client: the OpenID scopes asked for, and the resource scopes granted and refused. */
async function saveGrant(deps: DecisionDeps, request: DeviceRequest, userId: string, granted: string[], refused: string[]): Promise<string> {
  const provider = deps.provider();
  const grant = new provider.Grant({ accountId: userId, clientId: request.client.id });
  if (request.oidcScopes.length) grant.addOIDCScope(request.oidcScopes.join(' '));
  if (request.resource) {
    if (granted.length) grant.addResourceScope(request.resource.url, granted.join(' '));
    if (refused.length) grant.rejectResourceScope(request.resource.url, refused.join(' '));
  }
  return grant.save();
}
