/**
 * Client registration rules: what a registration (RFC 7591) or a Client ID Metadata Document may
 * say, and how registered clients are named.
 */
import { errors, type Configuration } from 'oidc-provider';
import type { Config } from '../../core/config.ts';
import { randomBase62, randomToken } from '../../core/crypto.ts';
import type { ResourceRegistry } from '../../applications/protected-resources.ts';
import { insecureRedirectUri } from '../clients.ts';
import { assertMetadataTypes } from '../registration-metadata.ts';

type Features = NonNullable<Configuration['features']>;

export function clientMetadataRules(resources: ResourceRegistry): Configuration['extraClientMetadata'] {
  return {
    properties: ['software_id', 'software_version'],
    validator(ctx, key, _value, metadata) {
      // Runs on every registration; used here to refuse non-loopback http redirects (OAuth 2.1 §2.3.1).
      if (key !== 'software_id') return;
      // Wrong JSON types are refused before any rule below reads a field (RFC 7591 §3.2.2).
      assertMetadataTypes(metadata);
      const bad = insecureRedirectUri((metadata.redirect_uris as string[] | undefined) ?? []);
      if (bad) throw new errors.InvalidRedirectUri('redirect_uris using http must use a loopback address (localhost, 127.0.0.1, [::1])');
      // client_credentials tokens have no user behind them: with open registration, anyone could
      // register such a client and call every tool (found by test/authz/client-credentials.test.ts).
      // Only administrators register those (see the token-endpoint check in issuance.ts getResourceServerInfo).
      const grantTypes = (metadata.grant_types as string[] | undefined) ?? [];
      if (ctx?.oidc?.route === 'registration' && grantTypes.includes('client_credentials')) {
        throw new errors.InvalidClientMetadata('client_credentials is available to pre-registered clients only');
      }
      // MCP SDK clients (v1 and v2) register with `scope` set to the resource's scopes (SEP-835),
      // but the engine checks a client's `scope` against its OpenID scopes only and would answer
      // invalid_client_metadata. The engine uses `scope` only as an allow-list of OpenID scopes, so
      // the resource scopes we serve are dropped from it; unknown scopes are still refused.
      if (typeof metadata.scope === 'string') {
        const served = new Set(resources.allScopes());
        const kept = metadata.scope.split(' ').filter((s) => s && !served.has(s));
        if (kept.length) metadata.scope = kept.join(' ');
        else delete metadata.scope;
      }
    },
  };
}

/** Dynamic registration (RFC 7591), as the configured policy allows it. */
export function dynamicRegistration(config: Config): Features['registration'] {
  return {
    enabled: config.registration.policy !== 'off',
    initialAccessToken: config.registration.policy === 'initial-access-token' ? config.registration.initialAccessToken! : false,
    // Never derived from the request: a new registrant never receives an existing client_id.
    idFactory: () => `dyn_${randomBase62(24)}`,
    secretFactory: async () => randomToken(32),
    // RFC 7592 (read/update/delete a registration) is off: no registration access token.
    issueRegistrationAccessToken: false,
  };
}

/** Client ID Metadata Documents, when the `metadata-document` client kind is on. */
export function metadataDocuments(enabled: boolean): Features['clientIdMetadataDocument'] {
  return {
    enabled,
    ack: 'draft-02',
    cacheDuration: { min: 60, max: 3600 },
    allowFetch: async () => enabled,
  };
}
