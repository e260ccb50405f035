/**
 * Access requests (issue 14): a member whose roles in an organization allow none of an
 * application's permissions asks its administrators from the consent page; an administrator
 * approves — giving a workspace or project role through the same service the admin API uses
 * (workspace-tree.ts `setResourceMember`) — or refuses. Both are audited; the administrators, then
 * the member, are e-mailed when SMTP is configured. The member's next authorization sees the new
 * role (token permissions are recomputed at every issuance: token-permissions.ts).
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import type { AccessRequest } from '../store/access-requests.ts';
import type { AuditRecord } from '../audit/audit-log.ts';
import type { ResourceRole } from '../core/roles.ts';
import { PortcullisError } from '../core/errors.ts';
import type { IdentityDeps } from './context.ts';
import type { Mailer } from './mailer.ts';
import { RESOURCE_ROLES, resourceOf, setResourceMember } from './workspace-tree.ts';

export interface AccessRequestDeps extends IdentityDeps {
  audit: { write(record: AuditRecord): Promise<unknown> };
  mailer?: Mailer;
  publicUrl: string;
  log?: { warn(obj: object, msg: string): void };
}

/** The member asks the org's administrators for access to `application` through `client`: one pending request at a time. */
export async function requestAccess(
  deps: AccessRequestDeps,
  input: { orgId: string; userId: string; clientId: string; clientName: string; application: string },
): Promise<{ request: AccessRequest; created: boolean }> {
  if (!(await deps.store.orgs.member(input.orgId, input.userId))) throw new PortcullisError('not_found', 'not a member of this organization');
  const result = await deps.store.accessRequests.create({ id: randomUUID(), kind: 'access', ...input, createdAt: deps.now() });
  if (!result.created) return result;
  const { request } = result;
  await deps.audit.write({
    kind: 'access_request.created',
    orgId: request.orgId,
    actor: request.userId,
    subject: request.userId,
    clientId: request.clientId,
    details: { request: request.id, application: request.application },
  });
  await tellAdmins(deps, request);
  return result;
}

/** The admin API's approval body (`POST /orgs/:org/access-requests/:id/approve`). */
export const ApproveAccessSchema = z.strictObject({ resourceId: z.string().min(1).max(200), role: z.enum(RESOURCE_ROLES) });

export interface AccessRequestAnswer {
  approve: boolean;
  /** On approval: the workspace or project, and the role the member gets on it. */
  resourceId?: string;
  role?: string;
}

function invalid(path: string, message: string): PortcullisError {
  return new PortcullisError('invalid_request', message, { detail: { errors: [{ path, message }] } });
}

/**
 * An administrator decides a pending request: 404 `not_found` for none in this org, 409 `conflict`
 * when it was decided already (by someone else, a moment ago), 400 `invalid_request` for an approval
 * without a resource of this org or a role.
 */
export async function decideAccessRequest(deps: AccessRequestDeps, actorId: string, orgId: string, id: string, answer: AccessRequestAnswer): Promise<AccessRequest> {
  const request = await deps.store.accessRequests.get(orgId, id);
  if (!request || request.kind !== 'access') throw new PortcullisError('not_found', 'no such access request');
  if (request.status !== 'pending') throw new PortcullisError('conflict', 'this request was decided already');
  const role = answer.approve ? approvedRole(answer.role) : null;
  const resourceId = answer.approve ? (answer.resourceId ?? '') : null;
  if (resourceId !== null) await resourceOf(deps, orgId, resourceId).catch(() => Promise.reject(invalid('resourceId', 'no such workspace or project in this organization')));
  const status = answer.approve ? 'approved' : 'refused';
  if (!(await deps.store.accessRequests.decide(orgId, id, { status, resourceId, role, by: actorId, at: deps.now() }))) {
    throw new PortcullisError('conflict', 'this request was decided already');
  }
  // The role after the decision is recorded: a lost race above leaves no half-given access.
  if (resourceId !== null && role !== null) await setResourceMember(deps, orgId, resourceId, request.userId, role);
  await deps.audit.write({
    kind: `access_request.${status}`,
    orgId,
    actor: actorId,
    subject: request.userId,
    clientId: request.clientId,
    details: { request: id, application: request.application, resourceId, role },
  });
  const decided = { ...request, status, resourceId, role, decidedAt: deps.now(), decidedBy: actorId } satisfies AccessRequest;
  await tellMember(deps, decided);
  return decided;
}

function approvedRole(role: string | undefined): ResourceRole {
  const found = RESOURCE_ROLES.find((r) => r === role);
  if (!found) throw invalid('role', `one of ${RESOURCE_ROLES.join(', ')}`);
  return found;
}

/** Mail is a courtesy: a mail server's failure never undoes a request or a decision (the console shows both). */
export async function send(deps: AccessRequestDeps, to: string, subject: string, text: string): Promise<void> {
  if (!deps.mailer) return;
  try {
    await deps.mailer.send({ to, subject, text });
  } catch (err) {
    deps.log?.warn({ event: 'access_request.mail_failed', err: String(err) }, 'access request e-mail not sent');
  }
}

/** E-mail the organization's owners and admins (when SMTP is configured) about `request`, pointing at `section`. */
export async function mailAdmins(deps: AccessRequestDeps, request: AccessRequest, section: 'requests' | 'clients', subject: (who: string) => string, text: (who: string, orgName: string) => string): Promise<void> {
  if (!deps.mailer) return;
  const [org, user, members] = await Promise.all([deps.store.orgs.get(request.orgId), deps.store.users.findById(request.userId), deps.store.orgs.members(request.orgId)]);
  if (!org || !user) return;
  const link = `${deps.publicUrl.replace(/\/$/, '')}/orgs/${org.slug}/${section}`;
  for (const admin of members.filter((m) => m.role === 'owner' || m.role === 'admin')) {
    const to = (await deps.store.users.findById(admin.userId))?.email;
    if (to) await send(deps, to, subject(user.email), `${text(user.email, org.name)}\n\nApprove or refuse: ${link}\n`);
  }
}

function tellAdmins(deps: AccessRequestDeps, request: AccessRequest): Promise<void> {
  return mailAdmins(
    deps,
    request,
    'requests',
    (who) => `${who} asks for access to ${request.clientName}`,
    (who, orgName) => `${who} asks for access to ${request.application} in ${orgName} through ${request.clientName}.`,
  );
}

async function tellMember(deps: AccessRequestDeps, request: AccessRequest): Promise<void> {
  if (!deps.mailer) return;
  const [org, user] = await Promise.all([deps.store.orgs.get(request.orgId), deps.store.users.findById(request.userId)]);
  if (!org || !user) return;
  const outcome = request.status === 'approved' ? `was approved: connect ${request.clientName} again` : 'was refused';
  await send(deps, user.email, `Your access request in ${org.name} ${request.status === 'approved' ? 'was approved' : 'was refused'}`, `Your request for access to ${request.application} in ${org.name} ${outcome}.\n`);
}

/** A member's requests, for their account page. */
export function requestsOf(deps: Pick<IdentityDeps, 'store'>, userId: string): Promise<AccessRequest[]> {
  return deps.store.accessRequests.listForUser(userId);
}
