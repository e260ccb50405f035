/**
 * The client asking for access, as a person is shown it before approving (the consent page, the
 * device confirmation page): its name and logo, whether Portcullis can vouch for who runs it, and
 * whether it will keep access without asking again.
 */
import type { Config } from '../core/config.ts';
import { html, type Html } from '../web/html.ts';
import type { WebDeps } from '../web/pages.ts';

export interface ClientView {
  id: string;
  name: string;
  logo: string | undefined;
  /** Registered by an administrator; not by itself (dynamic registration) or by a metadata document. */
  verified: boolean;
  registeredBy: string;
  /** It will get a refresh token, so it keeps access without asking again. */
  staysConnected: boolean;
}

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

/** The warning above an approval for a client Portcullis cannot vouch for; nothing for a verified one. */
export function unverifiedWarning(client: Pick<ClientView, 'verified' | 'registeredBy'>): Html | '' {
  return client.verified
    ? ''
    : html`<p class="warning" role="note"><strong>Unverified application.</strong> It registered ${client.registeredBy}; Portcullis cannot vouch for who runs it. Only continue if you started this from an application you trust.</p>`;
}

/** How long an approved client that gets refresh tokens stays connected, in whole days. */
export function staysConnectedDays(config: Config): number {
  return Math.round(config.tokens.refreshTokenTtl / 86400);
}
