/**
 * `portcullis keys …`: the token-signing key ring. `rotate` adds a new ES256 key and retires the
 * current one; running servers notice within about two seconds (server/authz-engine.ts polls the
 * key-ring fingerprint) and sign with the new key, while tokens signed by the retired key keep
 * verifying — it stays in the JWKS until every token it signed has expired.
 */
import { retireSigningKeyNow, rotateSigningKey } from '../signing-keys/key-ring.ts';
import { CONFIG_HELP, parseCommand } from './args.ts';
import { cliActor, cliAudit, loadCliConfig, withStore, type CliIo } from './context.ts';
import { table, timestamp } from './output.ts';

const rotateSpec = {
  name: 'keys rotate',
  help: `Usage: portcullis keys rotate [--json]

Adds a new ES256 token-signing key and retires the current one. Running servers switch to the
new key within a few seconds, without a restart. The retired key stays published in the JWKS
(/oauth/jwks), so tokens it signed keep verifying until they expire; then it is deleted.

Options:
      --json          print {"kid","retired"} as JSON
${CONFIG_HELP}
  -h, --help          show this help`,
  options: { json: { type: 'boolean' } },
} as const;

const listSpec = {
  name: 'keys list',
  help: `Usage: portcullis keys list [--json]

Lists the token-signing keys: key id (kid), algorithm, and whether each signs or only verifies.

Options:
      --json          print a JSON array
${CONFIG_HELP}
  -h, --help          show this help`,
  options: { json: { type: 'boolean' } },
} as const;

const retireSpec = {
  name: 'keys retire',
  help: `Usage: portcullis keys retire KID

Stops publishing a retired token-signing key now, before the tokens it signed have expired (for a
key you no longer trust). Those tokens stop verifying as soon as running servers notice, within a
few seconds. The key that signs cannot be retired: run \`portcullis keys rotate\` first.

Options:
${CONFIG_HELP}
  -h, --help          show this help`,
  options: {},
  positionals: { min: 1, max: 1, names: 'KID' },
} as const;

/** The same service as the console's /server/keys page and DELETE /admin/api/signing-keys/:kid. */
export async function retireKey(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommand(retireSpec, argv, io.stdout);
  if (!args) return 0;
  const kid = args.positionals[0]!;
  const config = loadCliConfig(args.values.config);
  return withStore(config, io, async (store) => {
    await retireSigningKeyNow(store, kid);
    await cliAudit(store).write({ kind: 'signing_key.retired', actor: cliActor(), reason: 'early', details: { kid } });
    io.stdout.write(`Retired ${kid}: no longer published; tokens it signed stop verifying within a few seconds\n`);
    return 0;
  });
}

export async function rotateKeys(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommand(rotateSpec, argv, io.stdout);
  if (!args) return 0;
  const config = loadCliConfig(args.values.config);
  return withStore(config, io, async (store, secrets) => {
    const before = (await store.signingKeys.list()).filter((k) => k.retiredAt === null).map((k) => k.kid);
    const fresh = await rotateSigningKey(store, secrets().dataKey, Math.floor(Date.now() / 1000));
    await cliAudit(store).write({ kind: 'signing_key.rotated', actor: cliActor(), reason: fresh.alg, details: { kid: fresh.kid, retired: before } });
    if (args.values.json) {
      io.stdout.write(`${JSON.stringify({ kid: fresh.kid, alg: fresh.alg, retired: before })}\n`);
      return 0;
    }
    const lines = [
      `New signing key ${fresh.kid} (${fresh.alg})`,
      ...(before.length ? [`Retired ${before.join(', ')}: still published for verifying tokens it signed, until they expire`] : []),
      'Running servers switch to the new key within a few seconds; no restart is needed.',
    ];
    io.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  });
}

export async function listKeys(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommand(listSpec, argv, io.stdout);
  if (!args) return 0;
  const config = loadCliConfig(args.values.config);
  return withStore(config, io, async (store) => {
    const keys = (await store.signingKeys.list()).map((k) => ({
      kid: k.kid,
      alg: k.alg,
      status: k.retiredAt === null ? 'active' : 'retired',
      created_at: k.createdAt,
      retired_at: k.retiredAt,
    }));
    if (args.values.json) {
      io.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
      return 0;
    }
    if (!keys.length) {
      io.stdout.write('No signing keys yet (the server creates one when it first starts)\n');
      return 0;
    }
    io.stdout.write(table(['KID', 'ALG', 'STATUS', 'CREATED', 'RETIRED'], keys.map((k) => [k.kid, k.alg, k.status, timestamp(k.created_at), timestamp(k.retired_at)])));
    return 0;
  });
}
