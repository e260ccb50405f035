/**
 * Members' requests for access to an application in an organization (migration 0014), made from the
 * consent page when their roles allow none of its permissions; identity/access-requests.ts decides,
 * this keeps. At most one pending request per person, organization and client.
 */
import type { ResourceRole } from '../core/roles.ts';

export type AccessRequestStatus = 'pending' | 'approved' | 'refused';

/** `access`: a workspace role to unlock an application; `client`: the organization's approval of a client (identity/client-approvals.ts). */
export type AccessRequestKind = 'access' | 'client';

export interface AccessRequest {
  id: string;
  orgId: string;
  userId: string;
  kind: AccessRequestKind;
  clientId: string;
  /** The client's name when the request was made (it may be gone by the time an admin looks). */
  clientName: string;
  /** The application's resource indicator the client asked for. */
  application: string;
  status: AccessRequestStatus;
  /** On approval: the workspace or project the member was given a role on, and that role. */
  resourceId: string | null;
  role: ResourceRole | null;
  createdAt: number;
  decidedAt: number | null;
  decidedBy: string | null;
}

export interface AccessDecision {
  status: 'approved' | 'refused';
  resourceId: string | null;
  role: ResourceRole | null;
  by: string;
  at: number;
}

export interface AccessRequestStore {
  /** Record a pending request; the one already pending for this person, org and client when there is one. */
  create(request: Omit<AccessRequest, 'status' | 'resourceId' | 'role' | 'decidedAt' | 'decidedBy'>): Promise<{ request: AccessRequest; created: boolean }>;
  get(orgId: string, id: string): Promise<AccessRequest | undefined>;
  /** An organization's requests, newest first. */
  listForOrg(orgId: string): Promise<AccessRequest[]>;
  /** A person's requests in every organization, newest first. */
  listForUser(userId: string): Promise<AccessRequest[]>;
  /** Decide a pending request, once: false when it is not pending (already decided, or none). */
  decide(orgId: string, id: string, decision: AccessDecision): Promise<boolean>;
  /** Decide every pending `client` request of the org for this client at once; returns those decided. */
  decideClient(orgId: string, clientId: string, decision: Pick<AccessDecision, 'status' | 'by' | 'at'>): Promise<AccessRequest[]>;
}
