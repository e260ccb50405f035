/**
 * The baseline: raw oidc-provider with its in-memory adapter, configured for the same work as
 * Portcullis does per request (ES256 JWT access tokens bound to a resource, PKCE, rotating refresh
 * tokens, client_credentials) and nothing else — no store, no hashing, no pages. Interactions
 * complete at once (login + consent), so a user with a live session gets codes straight away.
 *
 * Run: node bench/raw-provider.ts <port>; prints "ready" when listening.
 */
import { createServer } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

const port = Number(process.argv[2] ?? 4000);
const issuer = `http://localhost:${port}`;
const resource = `${issuer}/mcp`;
const { privateKey } = await generateKeyPair('ES256', { extractable: true });

const provider = new Provider(issuer, {
  jwks: { keys: [{ ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig', kid: 'raw' }] as never },
  clients: [
    {
      client_id: 'bench-client',
      client_secret: 'bench-secret-bench-secret-bench-secret',
      redirect_uris: ['http://127.0.0.1/cb'],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      id_token_signed_response_alg: 'ES256',
    },
  ],
  routes: { authorization: '/oauth/authorize', token: '/oauth/token' },
  pkce: { required: () => true },
  cookies: { keys: ['raw-bench-cookie-key'] },
  enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => resource,
      useGrantedResource: async () => true,
      getResourceServerInfo: async () => ({
        scope: 'demo:read demo:write demo:delete',
        audience: resource,
        accessTokenTTL: 1800,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  interactions: { url: async (_ctx, interaction) => `/interaction/${interaction.uid}` },
});

const callback = provider.callback();
createServer(async (req, res) => {
  if (!req.url?.startsWith('/interaction/')) return callback(req, res);
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'login') {
    return provider.interactionFinished(req, res, { login: { accountId: 'bench-user' } });
  }
  const grant = new provider.Grant({ accountId: 'bench-user', clientId: String(details.params.client_id) });
  const missing = (details.prompt.details.missingResourceScopes ?? {}) as Record<string, string[]>;
  for (const [indicator, scopes] of Object.entries(missing)) grant.addResourceScope(indicator, scopes.join(' '));
  return provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } });
}).listen(port, '127.0.0.1', () => console.log('ready'));
