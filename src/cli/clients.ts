/**
 * `portcullis clients …`: pre-registered OAuth clients, stored as kind 'static' with the same
 * record format dynamic registration uses (`clientToRecord`: the secret replaced by its keyed hash).
 * A confidential client's secret is generated here, printed once, and never stored or shown again.
 */
import type { ClientRecord } from '../store/clients.ts';
import { CLI_CLIENT_ID } from '../shared/cli-client.ts';
import { clientToRecord, insecureRedirectUri } from '../authz/clients.ts';
import { randomBase62, randomToken } from '../core/crypto.ts';
import { isLoopbackUrl } from '../shared/net.ts';
import { CONFIG_HELP, commandFailed, usageError, many, parseCommand } from './args.ts';
import { cliActor, cliAudit, loadCliConfig, withStore, type CliIo } from './context.ts';
import { table, timestamp } from './output.ts';

const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';
/** `--grant` values → engine grant types. Interactive grants come with refresh tokens. */
const GRANTS: Record<string, string[]> = {
  authorization_code: ['authorization_code', 'refresh_token'],
  device_code: [DEVICE_CODE, 'refresh_token'],
  client_credentials: ['client_credentials'],
};

const addSpec = {
  name: 'clients add',
  help: `Usage: portcullis clients add --name NAME --redirect-uri URI [--redirect-uri URI…]
                              [--public | --confidential] [--grant GRANT…]
                              [--resource-server URL…] [--scope SCOPE…] [--id CLIENT_ID] [--json]

Pre-registers an OAuth client. A public client (the default for interactive grants) has no
secret and must use PKCE. A confidential client (the default with --grant client_credentials)
gets a random secret, printed once: only its keyed hash is stored.

Options:
      --name NAME             name shown on the consent screen
      --redirect-uri URI      where authorization responses go (repeatable); https, or http on
                              loopback (any port matches), or a private-use scheme for native apps.
                              Required for the authorization_code grant.
      --public                no secret (token_endpoint_auth_method "none")
      --confidential          generate a secret (client_secret_basic)
      --grant GRANT           authorization_code (default; with refresh tokens), device_code,
                              client_credentials (confidential clients only); repeatable
      --resource-server URL   this client is that resource server: it may introspect tokens
                              whose audience is URL (repeatable; confidential clients only)
      --scope SCOPE           with --grant client_credentials: the scopes this service account may
                              be given (repeatable; default: each resource's default scopes)
      --id CLIENT_ID          choose the client_id (default: generated)
      --json                  print the client (and its secret) as JSON
${CONFIG_HELP}
  -h, --help                  show this help`,
  options: {
    name: { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    public: { type: 'boolean' },
    confidential: { type: 'boolean' },
    grant: { type: 'string', multiple: true },
    'resource-server': { type: 'string', multiple: true },
    scope: { type: 'string', multiple: true },
    id: { type: 'string' },
    json: { type: 'boolean' },
  },
} as const;

const listSpec = {
  name: 'clients list',
  help: `Usage: portcullis clients list [--json]

Lists registered OAuth clients — pre-registered (static) and dynamically registered — with their
type, grants and redirect URIs. Secrets are never shown (only their hashes are stored).

Options:
      --json          print a JSON array
${CONFIG_HELP}
  -h, --help          show this help`,
  options: { json: { type: 'boolean' } },
} as const;

const removeSpec = {
  name: 'clients remove',
  help: `Usage: portcullis clients remove CLIENT_ID

Removes a registered client: it can no longer authenticate, refresh or start new authorizations.
Access tokens already issued to it stay valid until they expire (at most tokens.accessTokenTtl).

Options:
${CONFIG_HELP}
  -h, --help          show this help`,
  options: {},
  positionals: { min: 1, max: 1, names: 'CLIENT_ID' },
} as const;

function fail(message: string): never {
  throw usageError(message, addSpec.name);
}

/** Redirect URIs as OAuth 2.1 §2.3.1 / RFC 8252 allow them; returns whether any is a native-app scheme. */
function checkRedirectUris(uris: string[]): boolean {
  let native = false;
  for (const uri of uris) {
    const url = URL.parse(uri);
    if (!url) fail(`--redirect-uri is not an absolute URI: ${uri}`);
    if (uri.includes('#')) fail(`--redirect-uri must not contain a fragment: ${uri}`);
    if (url.protocol === 'https:' || url.protocol === 'http:') continue;
    // Private-use URI schemes (RFC 8252 §7.1) are for native apps; the scheme is a reversed domain name.
    if (['javascript:', 'data:', 'file:', 'vbscript:'].includes(url.protocol) || !url.protocol.slice(0, -1).includes('.')) {
      fail(`--redirect-uri must use https, loopback http, or a reverse-domain private-use scheme (RFC 8252 §7.1): ${uri}`);
    }
    native = true;
  }
  const insecure = insecureRedirectUri(uris);
  if (insecure) fail(`--redirect-uri must use https unless the host is loopback (localhost, 127.0.0.1, [::1]): ${insecure}`);
  return native;
}

function checkResourceServer(raw: string): string {
  const url = URL.parse(raw);
  if (!url || (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackUrl(url))) || url.hash) {
    fail(`--resource-server must be an https URL (or http on loopback) without a fragment: ${raw}`);
  }
  return raw;
}

export async function addClient(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommand(addSpec, argv, io.stdout);
  if (!args) return 0;
  const { values } = args;
  const name = values.name?.trim();
  if (!name) fail('missing --name');
  if (values.public && values.confidential) fail('--public and --confidential exclude each other');

  const requested = many(values.grant);
  for (const grant of requested) if (!GRANTS[grant]) fail(`unknown --grant: ${grant} (expected authorization_code, device_code or client_credentials)`);
  const grantNames = requested.length ? [...new Set(requested)] : ['authorization_code'];
  const grantTypes = [...new Set(grantNames.flatMap((g) => GRANTS[g]!))];
  const interactive = grantNames.includes('authorization_code');
  const confidential = values.confidential ?? (values.public ? false : grantNames.includes('client_credentials'));
  if (!confidential && grantNames.includes('client_credentials')) fail('--grant client_credentials needs a confidential client (RFC 6749 §4.4)');

  const redirectUris = [...new Set(many(values['redirect-uri']))];
  if (interactive && redirectUris.length === 0) fail('missing --redirect-uri (required for the authorization_code grant)');
  if (!interactive && redirectUris.length) fail('--redirect-uri is only for the authorization_code grant');
  const native = checkRedirectUris(redirectUris);

  const resources = [...new Set(many(values['resource-server']).map(checkResourceServer))];
  if (resources.length && !confidential) fail('--resource-server needs a confidential client (introspection requires client authentication)');

  const scopes = [...new Set(many(values.scope).flatMap((s) => s.split(' ')).filter(Boolean))];
  if (scopes.length && !grantNames.includes('client_credentials')) fail('--scope limits service accounts: it needs --grant client_credentials');
  const badScope = scopes.find((s) => !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s));
  if (badScope) fail(`invalid --scope: ${badScope}`);

  const clientId = values.id ?? `app_${randomBase62(22)}`;
  if (!/^[\w.~-]{3,128}$/.test(clientId)) fail('--id may only use letters, digits and . _ ~ - (3 to 128 characters)');
  if (clientId === CLI_CLIENT_ID) fail(`--id ${CLI_CLIENT_ID} is reserved for the Portcullis CLI`);

  const config = loadCliConfig(values.config);
  const secret = confidential ? randomToken(32) : undefined;
  const metadata: Record<string, unknown> = {
    client_id: clientId,
    client_name: name,
    application_type: native ? 'native' : 'web',
    grant_types: grantTypes,
    response_types: interactive ? ['code'] : [],
    redirect_uris: redirectUris,
    token_endpoint_auth_method: confidential ? 'client_secret_basic' : 'none',
    ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}),
    ...(resources.length ? { portcullis_resources: resources } : {}),
    ...(scopes.length ? { portcullis_scopes: scopes } : {}),
  };

  return withStore(config, io, async (store, secrets) => {
    if (await store.clients.find(clientId)) throw commandFailed('already_exists', `a client with the id ${clientId} already exists`);
    await store.clients.upsert(clientToRecord(metadata as never, secrets().pepper, 'static'));
    await cliAudit(store).write({ kind: 'client.registered', actor: cliActor(), clientId, reason: 'pre-registered', details: { clientName: name, redirectUris: metadata.redirect_uris ?? [] } });
    if (values.json) {
      const { created_at: _created, last_used_at: _used, ...shown } = view({ clientId, metadata, kind: 'static', createdAt: 0, lastUsedAt: null });
      io.stdout.write(`${JSON.stringify({ ...shown, ...(secret ? { client_secret: secret } : {}) })}\n`);
      return 0;
    }
    const lines = [
      `Added ${confidential ? 'confidential' : 'public'} client "${name}"`,
      `  client_id       ${clientId}`,
      ...(secret ? [`  client_secret   ${secret}`, '                  ↳ shown once: store it now (only its hash is kept)'] : []),
      `  auth method     ${metadata.token_endpoint_auth_method}`,
      `  grants          ${grantTypes.join(', ')}`,
      ...(redirectUris.length ? [`  redirect URIs   ${redirectUris.join(', ')}`] : []),
      ...(resources.length ? [`  may introspect  ${resources.join(', ')}`] : []),
      ...(scopes.length ? [`  may be given    ${scopes.join(' ')}`] : []),
    ];
    io.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  });
}

/** What may be shown about a client: chosen fields only, so no secret (or its hash) can slip out. */
function view(record: ClientRecord) {
  const m = record.metadata;
  const strings = (value: unknown) => (Array.isArray(value) ? value.map(String) : []);
  const method = typeof m.token_endpoint_auth_method === 'string' ? m.token_endpoint_auth_method : 'client_secret_basic';
  return {
    client_id: record.clientId,
    client_name: typeof m.client_name === 'string' ? m.client_name : null,
    kind: record.kind,
    type: method === 'none' ? 'public' : 'confidential',
    token_endpoint_auth_method: method,
    grant_types: strings(m.grant_types),
    redirect_uris: strings(m.redirect_uris),
    resources: strings(m.portcullis_resources),
    scopes: strings(m.portcullis_scopes),
    created_at: record.createdAt,
    last_used_at: record.lastUsedAt,
  };
}

export async function listClients(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommand(listSpec, argv, io.stdout);
  if (!args) return 0;
  const config = loadCliConfig(args.values.config);
  return withStore(config, io, async (store) => {
    const clients = (await store.clients.list()).map(view);
    if (args.values.json) {
      io.stdout.write(`${JSON.stringify(clients, null, 2)}\n`);
      return 0;
    }
    if (!clients.length) {
      io.stdout.write('No clients registered yet (add one with: portcullis clients add --help)\n');
      return 0;
    }
    const rows = clients.map((c) => [
      c.client_id,
      c.client_name ?? '',
      c.kind,
      c.type,
      c.grant_types.join(','),
      c.redirect_uris.join(' ') || '-',
      timestamp(c.created_at),
    ]);
    io.stdout.write(table(['CLIENT ID', 'NAME', 'KIND', 'TYPE', 'GRANTS', 'REDIRECT URIS', 'CREATED'], rows));
    return 0;
  });
}

export async function removeClient(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommand(removeSpec, argv, io.stdout);
  if (!args) return 0;
  const clientId = args.positionals[0]!;
  const config = loadCliConfig(args.values.config);
  return withStore(config, io, async (store) => {
    if (!(await store.clients.delete(clientId))) throw commandFailed('not_found', `no client with the id ${clientId}`);
    await cliAudit(store).write({ kind: 'client.removed', actor: cliActor(), clientId });
    io.stdout.write(`Removed client ${clientId}\n`);
    return 0;
  });
}
