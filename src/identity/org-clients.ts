/**
 * Which clients may act for an organization (docs/design/identity.md "Consent and connected apps").
 * Registration happens before anyone picks an organization, so these rules are applied where an
 * organization is chosen (consent, device confirmation) and again at the token endpoint.
 */
import type { Org } from '../store/orgs.ts';
import type { ClientRecord } from '../store/clients.ts';
import { CLI_CLIENT_ID } from '../shared/cli-client.ts';

export type ClientKind = 'pre-registered' | 'metadata-document' | 'dynamic';

/** A Client ID Metadata Document client is named by its https URL; a dynamic one by its stored kind. */
export function clientKindOf(clientId: string, stored: Pick<ClientRecord, 'kind'> | undefined): ClientKind {
  if (/^https:\/\//i.test(clientId)) return 'metadata-document';
  if (clientId === CLI_CLIENT_ID) return 'pre-registered';
  return stored?.kind === 'dynamic' ? 'dynamic' : 'pre-registered';
}

export type OrgClientRefusal = 'client_kind_not_allowed' | 'client_not_allowed';

/**
 * undefined when the org lets this client act for it, else why not. No settings: every kind the
 * server allows. `pre-registered` always covers the CLI (`portcullis-cli`); an allow-list, when
 * set, is exact and applies to every kind.
 */
export function orgRefusesClient(org: Pick<Org, 'settings'>, clientId: string, kind: ClientKind): OrgClientRefusal | undefined {
  const { clientKinds } = org.settings;
  const allowList = approvedClients(org);
  if (clientKinds && !clientKinds.includes(kind)) return 'client_kind_not_allowed';
  if (allowList && !allowList.includes(clientId)) return 'client_not_allowed';
  return undefined;
}

/** The allow-list in force: in "admin approval" mode an absent list approves nothing yet. */
export function approvedClients(org: Pick<Org, 'settings'>): string[] | null {
  const { clientAllowList, clientApproval } = org.settings;
  return clientAllowList ?? (clientApproval ? [] : null);
}

/**
 * True when the org refuses the client only because it has not approved it, in "admin approval"
 * mode: the member may consent and the request goes to the org's administrators instead of a grant.
 */
export function awaitsApproval(org: Pick<Org, 'settings'>, clientId: string, kind: ClientKind): boolean {
  return org.settings.clientApproval === true && orgRefusesClient(org, clientId, kind) === 'client_not_allowed';
}
