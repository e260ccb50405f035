/**
 * `portcullis clients …`: pre-registered OAuth clients, through clients/service.ts — what the
 * console's `/server/clients` and the admin API's `/clients` call: stored as kind 'static' with the
 * secret replaced by its keyed hash; a confidential client's secret is printed once, never again.
 */
import type { ClientRecord } from '../store/clients.ts';
import { isPortcullisError } from '../core/errors.ts';
import { GRANT_NAMES } from '../clients/input.ts';
import { registerClient, removeClient as removeRegistered } from '../clients/service.ts';
import { CONFIG_HELP, usageError, many, parseCommand, commandFailed } from './args.ts';
import { cliActor, cliAudit, loadCliConfig, withStore, type CliIo } from './context.ts';
import { table, timestamp } from './output.ts';

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

/** The options as clients/service.ts's input — the same the console's form and the admin API give it. */
function registrationInput(values: { name?: string; public?: boolean; confidential?: boolean; grant?: string[]; 'redirect-uri'?: string[]; 'resource-server'?: string[]; scope?: string[]; id?: string }): Record<string, unknown> {
  if (values.public && values.confidential) fail('--public and --confidential exclude each other');
  const requested = many(values.grant);
  for (const grant of requested) if (!(GRANT_NAMES as readonly string[]).includes(grant)) fail(`unknown --grant: ${grant} (expected authorization_code, device_code or client_credentials)`);
  const grants = requested.length ? [...new Set(requested)] : ['authorization_code'];
  const confidential = values.confidential ?? (values.public ? false : grants.includes('client_credentials'));
  const scopes = [...new Set(many(values.scope).flatMap((s) => s.split(' ')).filter(Boolean))];
  if (scopes.length && !grants.includes('client_credentials')) fail('--scope limits service accounts: it needs --grant client_credentials');
  return {
    name: values.name ?? '',
    ...(values.id !== undefined ? { clientId: values.id } : {}),
    tokenEndpointAuthMethod: confidential ? 'client_secret_basic' : 'none',
    redirectUris: [...new Set(many(values['redirect-uri']))],
    grants,
    scopes,
    resourceServers: [...new Set(many(values['resource-server']))],
  };
}

/** The service's refusal as this command's: a bad option is a usage error (exit 2), naming the field. */
function asCommandError(err: unknown): unknown {
  if (!isPortcullisError(err) || err.code !== 'invalid_request') return err;
  const first = (err.detail.errors as { path: string; message: string }[] | undefined)?.[0];
  return usageError(first ? `${OPTION_OF[first.path.split('.')[0]!] ?? first.path}: ${first.message}` : err.message, addSpec.name);
}

const OPTION_OF: Record<string, string> = {
  name: '--name',
  clientId: '--id',
  tokenEndpointAuthMethod: '--public/--confidential',
  redirectUris: '--redirect-uri',
  grants: '--grant',
  scopes: '--scope',
  resourceServers: '--resource-server',
};

export async function addClient(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommand(addSpec, argv, io.stdout);
  if (!args) return 0;
  const { values } = args;
  const input = registrationInput(values);
  const config = loadCliConfig(values.config);
  return withStore(config, io, async (store, secrets) => {
    let registered;
    try {
      registered = await registerClient({ store, pepper: secrets().pepper, audit: cliAudit(store) }, input, cliActor());
    } catch (err) {
      throw asCommandError(err);
    }
    const { client, secret } = registered;
    if (values.json) {
      const { created_at: _created, last_used_at: _used, ...shown } = view((await store.clients.find(client.clientId))!);
      io.stdout.write(`${JSON.stringify({ ...shown, ...(secret ? { client_secret: secret } : {}) })}\n`);
      return 0;
    }
    const lines = [
      `Added ${client.type} client "${client.name}"`,
      `  client_id       ${client.clientId}`,
      ...(secret ? [`  client_secret   ${secret}`, '                  ↳ shown once: store it now (only its hash is kept)'] : []),
      `  auth method     ${client.tokenEndpointAuthMethod}`,
      `  grants          ${client.grantTypes.join(', ')}`,
      ...(client.redirectUris.length ? [`  redirect URIs   ${client.redirectUris.join(', ')}`] : []),
      ...(client.resourceServers.length ? [`  may introspect  ${client.resourceServers.join(', ')}`] : []),
      ...(client.scopes.length ? [`  may be given    ${client.scopes.join(' ')}`] : []),
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
  return withStore(config, io, async (store, secrets) => {
    try {
      await removeRegistered({ store, pepper: secrets().pepper, audit: cliAudit(store) }, clientId, cliActor());
    } catch (err) {
      throw isPortcullisError(err) && err.code === 'not_found' ? commandFailed('not_found', `no client with the id ${clientId}`) : err;
    }
    io.stdout.write(`Removed client ${clientId}\n`);
    return 0;
  });
}
