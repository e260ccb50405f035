/**
 * The client asking for access, looked up for the approval pages (web/approval.ts draws it): its
 * name and logo, whether Portcullis can vouch for who runs it, and whether it will keep access
 * without asking again.
 */
import type { ClientView } from '../web/approval.ts';
import type { WebDeps } from '../web/pages.ts';

/** The client as shown, or undefined when the engine does not know it (any more). */
export async function clientView(deps: Pick<WebDeps, 'provider' | 'store'>, clientId: string): Promise<ClientView | undefined> {
  const client = await deps.provider().Client.find(clientId);
  if (!client) return undefined;
  const stored = await deps.store.clients.find(clientId);
  const byDocument = Boolean((client as unknown as { clientIdMetadataDocument?: boolean }).clientIdMetadataDocument);
  return {
    id: clientId,
    name: client.clientName ?? clientId,
    // Only an https logo: the pages' CSP loads no other remote image (img-src 'self' https: data:).
    logo: client.logoUri && URL.parse(client.logoUri)?.protocol === 'https:' ? client.logoUri : undefined,
    verified: !byDocument && stored?.kind !== 'dynamic',
    registeredBy: byDocument ? 'a metadata document at its own address' : 'itself (dynamic registration)',
    staysConnected: client.grantTypeAllowed('refresh_token'),
  };
}
