/**
 * What the engine does that belongs on the record (issue "Every tool call on the record"): tokens
 * issued and refreshed, with their grant; grants the engine revokes (a refresh token used twice,
 * RFC 9700 §4.14.2); clients registering themselves (RFC 7591). Read from the engine's own events,
 * after the fact, so nothing here can change what the engine answers; queued (batched), never
 * awaited on the protocol's path. The organization is the one the grant acts for (bound-grant.ts).
 */
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AuditLog } from '../../audit/audit-log.ts';
import { grantOrgOf } from './bound-grant.ts';

interface IssuedToken {
  jti?: string;
  grantId?: string;
  scope?: string;
  aud?: string | string[];
  expiresAt?: number;
}

function issued(ctx: KoaContextWithOIDC): IssuedToken | undefined {
  const { entities } = ctx.oidc;
  return (entities.AccessToken ?? entities.ClientCredentials) as IssuedToken | undefined;
}

export function recordEngineEvents(provider: Provider, audit: AuditLog): void {
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const grantType = String(ctx.oidc.params?.grant_type ?? '');
    const token = issued(ctx);
    const accountId = ctx.oidc.account?.accountId ?? (ctx.oidc.entities.Grant as { accountId?: string } | undefined)?.accountId;
    const clientId = ctx.oidc.client?.clientId ?? null;
    audit.record({
      kind: grantType === 'refresh_token' ? 'token.refreshed' : 'token.issued',
      orgId: grantOrgOf(ctx)?.org.id ?? null,
      actor: accountId ?? (clientId ? `client:${clientId}` : null),
      subject: accountId ?? null,
      clientId,
      reason: grantType,
      details: { grantId: token?.grantId ?? null, jti: token?.jti ?? null, scope: token?.scope ?? null, resource: token?.aud ?? null, expiresAt: token?.expiresAt ?? null },
    });
  });
  provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
    audit.record({ kind: 'token.revoked', actor: 'system', clientId: ctx.oidc?.client?.clientId ?? null, reason: 'engine', details: { grantId, route: ctx.oidc?.route ?? null } });
  });
  // The engine emits it (lib/actions/registration.js); its type declarations leave it out.
  (provider as unknown as NodeJS.EventEmitter).on('registration_create.success', (_ctx: KoaContextWithOIDC, client: { clientId: string; clientName?: string; redirectUris?: string[] }) => {
    audit.record({
      kind: 'client.registered',
      actor: `client:${client.clientId}`,
      clientId: client.clientId,
      reason: 'dynamic',
      details: { clientName: client.clientName ?? null, redirectUris: client.redirectUris ?? [] },
    });
  });
}
