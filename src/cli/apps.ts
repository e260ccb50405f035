/**
 * `portcullis apps …`: the protected applications, on the configured store — the same rules as
 * the admin API (admin/applications.ts), so a running server applies what is done here within
 * about two seconds (its registry polls the store), without a restart.
 *
 *   apps list [--org ORG] | show SLUG | tools SLUG   what is protected, its status, its tool manifest
 *   apps move SLUG --org ORG | --server    give an application to an organization, or back to the server
 *   apps approve SLUG TOOL…                approve tools waiting for review
 *   apps reject SLUG TOOL                  send a tool back to review (hidden, not callable)
 *   apps test SLUG [--url URL]             self-test the running server's public URL
 *
 * Creating and editing applications is done in the configuration file or through the admin API.
 */
import type { Store } from '../store/store.ts';
import { importJWK } from 'jose';
import { selfTestStored } from '../applications/status.ts';
import type { SelfTestResult } from '../applications/self-test.ts';
import { applicationService, type ApplicationService } from '../applications/service.ts';
import { isRefusal } from '../core/errors.ts';
import { applicationDetail, applicationSummary, toolView } from '../applications/views.ts';
import { loadKeyRing } from '../signing-keys/key-ring.ts';
import { CONFIG_HELP, commandFailed, usageError, parseCommand } from './args.ts';
import { cliActor, cliAudit, loadCliConfig, withStore, type CliIo } from './context.ts';
import { table, timestamp } from './output.ts';

const jsonOption = { json: { type: 'boolean' } } as const;

const listSpec = {
  name: 'apps list',
  help: `Usage: portcullis apps list [--json]

Lists the protected applications (MCP servers behind the gateway): slug, name, path, where the
definition comes from (config, api, builtin), the organization that manages it (- for
server-wide), status (not_verified, needs_review, live) and tools.

Options:
      --org ORG       only the applications of this organization (slug or id)
      --json          print a JSON array
${CONFIG_HELP}
  -h, --help          show this help`,
  options: { org: { type: 'string' }, ...jsonOption },
} as const;

const moveSpec = {
  name: 'apps move',
  help: `Usage: portcullis apps move SLUG (--org ORG | --server)

Gives an application to an organization, whose owners and admins then manage it (its definition,
tool review and self-test) in the console and the admin API, or back to the server (--server):
server administrators only. Who may call it at the gateway does not change (tokens and policy
decide). An application that runs a command stays server-wide.

Options:
      --org ORG       the organization (slug or id)
      --server        server-wide again
${CONFIG_HELP}
  -h, --help          show this help`,
  options: { org: { type: 'string' }, server: { type: 'boolean' } },
  positionals: { min: 1, max: 1, names: 'SLUG' },
} as const;

const showSpec = {
  name: 'apps show',
  help: `Usage: portcullis apps show SLUG [--json]

Shows one application: its URL, upstream, scopes, status with the reason, and its last self-test.
Secrets in the upstream definition (headers, environment) are masked.

Options:
      --json          print JSON
${CONFIG_HELP}
  -h, --help          show this help`,
  options: jsonOption,
  positionals: { min: 1, max: 1, names: 'SLUG' },
} as const;

const toolsSpec = {
  name: 'apps tools',
  help: `Usage: portcullis apps tools SLUG [--json]

Lists the tools the application's MCP server has listed: review status (approved, needs_review),
the scope each needs, when it was first and last seen, and who reviewed it. Tools waiting for
review are hidden from clients and cannot be called.

Options:
      --json          print a JSON array
${CONFIG_HELP}
  -h, --help          show this help`,
  options: jsonOption,
  positionals: { min: 1, max: 1, names: 'SLUG' },
} as const;

const approveSpec = {
  name: 'apps approve',
  help: `Usage: portcullis apps approve SLUG TOOL [TOOL…]

Approves tools as they are listed now: clients whose token has the tool's scope see and may call
them. A tool whose description, schema or annotations change later goes back to review by itself.
Nothing is approved when any TOOL is unknown.

Options:
${CONFIG_HELP}
  -h, --help          show this help`,
  options: {},
  positionals: { min: 2, max: 1000, names: 'SLUG and TOOL' },
} as const;

const rejectSpec = {
  name: 'apps reject',
  help: `Usage: portcullis apps reject SLUG TOOL

Sends a tool back to review: it is hidden from tools/list and refused at tools/call (policy_denied)
until it is approved again.

Options:
${CONFIG_HELP}
  -h, --help          show this help`,
  options: {},
  positionals: { min: 2, max: 2, names: 'SLUG and TOOL' },
} as const;

const testSpec = {
  name: 'apps test',
  help: `Usage: portcullis apps test SLUG [--url URL] [--json]

Self-tests the application against the RUNNING server's public URL: no token → 401 with
resource_metadata; the resource metadata names it; "Bearer garbage" → refused; a token for
another resource → 401; a token without scopes sees no tool and is refused a call (403); a token
with every scope reaches the MCP server. No tool is run. Tokens are signed with the server's
active key (read from the store), so this runs where the server's store and secret are.
The result is recorded: the application is "live" once a self-test passes and every tool is
approved. Exits with 1 when a check fails.

Options:
      --url URL       the server's public URL (default: publicUrl from the configuration)
      --json          print the result as JSON
${CONFIG_HELP}
  -h, --help          show this help`,
  options: { url: { type: 'string' }, ...jsonOption },
  positionals: { min: 1, max: 1, names: 'SLUG' },
} as const;

function service(store: Store, publicUrl: string): ApplicationService {
  return applicationService({ store, publicUrl, now: () => Math.floor(Date.now() / 1000), audit: cliAudit(store) });
}

/** `--org`: an organization's slug or id → the organization; unknown → not_found, exit 1. */
async function orgNamed(store: Store, ref: string): Promise<{ id: string; slug: string }> {
  const org = ref.startsWith('org_') ? await store.orgs.get(ref) : await store.orgs.bySlug(ref);
  if (!org) throw commandFailed('not_found', `no organization ${ref}`);
  return org;
}

/** Organization id → slug, for showing who manages each application. */
async function orgSlugs(store: Store, ids: (string | null)[]): Promise<Map<string, string>> {
  const unique = [...new Set(ids.filter((id): id is string => id !== null))];
  const orgs = await Promise.all(unique.map((id) => store.orgs.get(id)));
  return new Map(orgs.filter((o) => o !== undefined).map((o) => [o.id, o.slug]));
}

/** PortcullisError (unknown application, tool…) → one line, exit 1. */
async function run<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isRefusal(err)) throw commandFailed(err.code, err.message, err);
    throw err;
  }
}

/** Who approved, as recorded in the manifest. */

export async function listApps(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommand(listSpec, argv, io.stdout);
  if (!args) return 0;
  const config = loadCliConfig(args.values.config);
  return withStore(config, io, async (store) => {
    const only = args.values.org === undefined ? undefined : (await orgNamed(store, args.values.org)).id;
    const loaded = (await service(store, config.publicUrl).list()).filter(({ stored }) => only === undefined || stored.orgId === only);
    const slugs = await orgSlugs(store, loaded.map(({ stored }) => stored.orgId));
    const apps = loaded.map(({ app, stored, status }) => ({ ...applicationSummary(app, stored.source, status), org: stored.orgId === null ? null : (slugs.get(stored.orgId) ?? stored.orgId) }));
    if (args.values.json) {
      io.stdout.write(`${JSON.stringify(apps, null, 2)}\n`);
      return 0;
    }
    if (!apps.length) {
      io.stdout.write('No applications yet (the server adds the built-in demo when it first starts)\n');
      return 0;
    }
    const rows = apps.map((a) => [a.slug, a.name, a.path, a.source, a.org ?? '-', a.status, `${a.tools.total}${a.tools.needsReview ? ` (${a.tools.needsReview} to review)` : ''}`]);
    io.stdout.write(table(['SLUG', 'NAME', 'PATH', 'SOURCE', 'ORG', 'STATUS', 'TOOLS'], rows));
    return 0;
  });
}

export async function showApp(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommand(showSpec, argv, io.stdout);
  if (!args) return 0;
  const slug = args.positionals[0]!;
  const config = loadCliConfig(args.values.config);
  return withStore(config, io, (store) =>
    run(async () => {
      const { app, stored, status } = await service(store, config.publicUrl).get(slug);
      const detail = applicationDetail(app, stored, status);
      if (args.values.json) {
        io.stdout.write(`${JSON.stringify(detail, null, 2)}\n`);
        return 0;
      }
      const test = status.selfTest;
      const lines = [
        `${app.slug} — ${app.name}`,
        `  url          ${app.resource}`,
        `  source       ${stored.source}${detail.readOnly ? ' (read-only here and in the admin API)' : ''}`,
        `  managed by   ${stored.orgId === null ? 'server administrators (server-wide)' : `organization ${(await orgSlugs(store, [stored.orgId])).get(stored.orgId) ?? stored.orgId}`}`,
        `  upstream     ${detail.upstream}`,
        `  scopes       ${app.scopes.map((s) => s.name).join(' ')}`,
        `  default      ${app.defaultScopes.join(' ') || '-'}`,
        `  status       ${status.status} — ${status.reason}`,
        `  self-test    ${test ? `${test.passed ? 'passed' : 'failed'} ${timestamp(test.ranAt)} at ${test.url}${test.current ? '' : ' (before the definition changed)'}` : 'never run (portcullis apps test ' + app.slug + ')'}`,
        `  tools        ${status.tools.total}${status.tools.needsReview.length ? ` (waiting for review: ${status.tools.needsReview.join(', ')})` : ''}`,
      ];
      io.stdout.write(`${lines.join('\n')}\n`);
      return 0;
    }),
  );
}

export async function moveApp(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommand(moveSpec, argv, io.stdout);
  if (!args) return 0;
  const slug = args.positionals[0]!;
  if ((args.values.org === undefined) === !args.values.server) throw usageError('give either --org ORG or --server', moveSpec.name);
  const config = loadCliConfig(args.values.config);
  return withStore(config, io, (store) =>
    run(async () => {
      const org = args.values.org === undefined ? null : await orgNamed(store, args.values.org);
      await service(store, config.publicUrl).move(slug, org?.id ?? null, cliActor());
      io.stdout.write(org ? `${slug} is now managed by organization ${org.slug}\n` : `${slug} is server-wide again (server administrators manage it)\n`);
      return 0;
    }),
  );
}

export async function listTools(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommand(toolsSpec, argv, io.stdout);
  if (!args) return 0;
  const slug = args.positionals[0]!;
  const config = loadCliConfig(args.values.config);
  return withStore(config, io, (store) =>
    run(async () => {
      const { loaded, tools } = await service(store, config.publicUrl).tools(slug);
      const views = tools.map((t) => toolView(loaded.app, t));
      if (args.values.json) {
        io.stdout.write(`${JSON.stringify(views, null, 2)}\n`);
        return 0;
      }
      if (!tools.length) {
        io.stdout.write(`${slug} has no tools recorded yet (they are recorded when the server first lists them)\n`);
        return 0;
      }
      const rows = tools.map((t) => [t.name, t.status, toolView(loaded.app, t).scope, timestamp(t.firstSeenAt), timestamp(t.lastSeenAt), t.reviewedBy ?? '-']);
      io.stdout.write(table(['TOOL', 'STATUS', 'SCOPE', 'FIRST SEEN', 'LAST SEEN', 'REVIEWED BY'], rows));
      return 0;
    }),
  );
}

export async function approveTools(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommand(approveSpec, argv, io.stdout);
  if (!args) return 0;
  const [slug, ...names] = args.positionals as [string, ...string[]];
  const config = loadCliConfig(args.values.config);
  return withStore(config, io, (store) =>
    run(async () => {
      const apps = service(store, config.publicUrl);
      const known = new Set((await apps.tools(slug)).tools.map((t) => t.name));
      const unknown = names.filter((n) => !known.has(n));
      if (unknown.length) throw commandFailed('not_found', `${slug} has no tool ${unknown.join(', ')} (nothing approved; see portcullis apps tools ${slug})`);
      const by = cliActor();
      for (const name of new Set(names)) await apps.review(slug, name, 'approved', by);
      io.stdout.write(`Approved in ${slug}: ${[...new Set(names)].join(', ')}\nRunning servers apply this within a few seconds.\n`);
      return 0;
    }),
  );
}

export async function rejectTool(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommand(rejectSpec, argv, io.stdout);
  if (!args) return 0;
  const [slug, name] = args.positionals as [string, string];
  const config = loadCliConfig(args.values.config);
  return withStore(config, io, (store) =>
    run(async () => {
      await service(store, config.publicUrl).review(slug, name, 'needs_review', cliActor());
      io.stdout.write(`${name} in ${slug} is waiting for review again: hidden from clients and not callable\n`);
      return 0;
    }),
  );
}

function publicUrl(raw: string): string {
  const url = URL.parse(raw);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash || url.username) {
    throw usageError(`--url must be the server's public URL (http or https, no query or fragment): ${raw}`, testSpec.name);
  }
  return url.href.replace(/\/+$/, '');
}

function printResult(io: CliIo, result: SelfTestResult): void {
  const mark = { pass: 'ok  ', fail: 'FAIL', skip: 'skip' } as const;
  const width = Math.max(...result.checks.map((c) => c.name.length));
  const lines = [
    `Self-test of ${result.slug} at ${result.url}`,
    ...result.checks.map((c) => `  ${mark[c.outcome]}  ${c.name.padEnd(width)}  ${c.detail}`),
  ];
  const failed = result.checks.filter((c) => c.outcome === 'fail').map((c) => c.name);
  lines.push(result.passed ? 'Passed.' : `Failed: ${failed.join(', ')}`);
  io.stdout.write(`${lines.join('\n')}\n`);
}

export async function testApp(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommand(testSpec, argv, io.stdout);
  if (!args) return 0;
  const slug = args.positionals[0]!;
  const config = loadCliConfig(args.values.config);
  const issuer = publicUrl(args.values.url ?? config.publicUrl);
  return withStore(config, io, async (store, secrets) => {
    const now = Math.floor(Date.now() / 1000);
    // Read the ring without pruning it (retention = everything): expiring keys is the server's job.
    const ring = await loadKeyRing(store, secrets().dataKey, now, now).catch((err: unknown) => {
      throw commandFailed('unavailable', `cannot sign self-test tokens: ${err instanceof Error ? err.message : String(err)}`);
    });
    const jwk = ring.privateJwks[0]!;
    const key = { key: (await importJWK(jwk, 'ES256')) as CryptoKey, kid: String(jwk.kid) };
    const result = await selfTestStored(store, slug, { issuer, signingKey: async () => key });
    if (!result) throw commandFailed('not_found', `no application ${slug} (see portcullis apps list)`);
    const status = (await service(store, issuer).get(slug)).status;
    if (args.values.json) io.stdout.write(`${JSON.stringify({ ...result, status: status.status }, null, 2)}\n`);
    else {
      printResult(io, result);
      io.stdout.write(`Status: ${status.status} — ${status.reason}\n`);
    }
    return result.passed ? 0 : 1;
  });
}
