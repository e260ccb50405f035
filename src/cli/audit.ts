/**
 * `portcullis audit …`: the audit trail from the command line.
 *  - `verify` recomputes every hash chain in the store (or one organization's) from its checkpoint
 *    to its head; `verify --file export.jsonl` checks an exported file offline, streaming it line
 *    by line, with no store at all. Either way the first record that does not follow is named, and
 *    the exit code says it: 0 whole, 1 broken (or could not be checked).
 *  - `export` streams an organization's records as JSON lines or CSV to a file or stdout, in flat
 *    memory (audit/export.ts); a file appears only once complete.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, renameSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Store } from '../store/store.ts';
import type { Org } from '../store/orgs.ts';
import { auditHash } from '../audit/chain.ts';
import { EXPORT_FORMATS, openExport, type ExportFormat } from '../audit/export.ts';
import { parseTime } from '../audit/query.ts';
import { verifyLines, verifyStore, type ChainReport, type FileReport } from '../audit/verify.ts';
import { CONFIG_HELP, commandFailed, parseCommand, usageError } from './args.ts';
import { loadCliConfig, withStore, type CliIo } from './context.ts';

const verifySpec = {
  name: 'audit verify',
  help: `Usage: portcullis audit verify [--org <id|slug>] [--json]
       portcullis audit verify --file <export.jsonl | -> [--json]

Checks the audit trail's hash chains: every record must follow from the one before it in its
organization's chain. Without --file, the store's chains (all, or one organization's) from their
checkpoint to their head; with --file, an exported JSON-lines file offline (no store needed; - reads
stdin). Prints the first record that does not follow. Exit code 0: whole; 1: broken.

Options:
      --org ORG       only this organization's chain (id or slug)
      --file FILE     verify an export (JSON lines) instead of the store
      --json          print the report as JSON
${CONFIG_HELP}
  -h, --help          show this help`,
  options: { org: { type: 'string' }, file: { type: 'string' }, json: { type: 'boolean' } },
} as const;

const exportSpec = {
  name: 'audit export',
  help: `Usage: portcullis audit export --org <id|slug> [--format jsonl|csv] [--since TIME] [--until TIME] [--out FILE]

Streams an organization's audit records, oldest first: JSON lines (the full records, which
\`portcullis audit verify --file\` checks offline) or CSV. Times are ISO 8601 or epoch seconds;
--until is exclusive. Without --out, the records go to stdout.

Options:
      --org ORG       the organization (id or slug)
      --format FMT    jsonl (default) or csv
      --since TIME    from this time
      --until TIME    before this time
      --out FILE      write to FILE (created once the export is complete)
${CONFIG_HELP}
  -h, --help          show this help`,
  options: { org: { type: 'string' }, format: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' }, out: { type: 'string' } },
} as const;

const PROBLEMS: Record<string, string> = {
  hash: 'its contents do not give its hash (edited)',
  link: 'it does not follow the record before it (one removed, reordered or inserted)',
  head: 'the chain ends before its recorded head (records removed from its end)',
  format: 'not an audit record (not JSON, or fields missing)',
};

async function findOrg(store: Store, ref: string): Promise<Org> {
  const org = ref.startsWith('org_') ? await store.orgs.get(ref) : await store.orgs.bySlug(ref);
  if (!org) throw commandFailed('not_found', `no organization ${ref}`);
  return org;
}

function fileLines(file: string): AsyncIterable<string> {
  const input = file === '-' ? process.stdin : createReadStream(file, { encoding: 'utf8' });
  return createInterface({ input, crlfDelay: Infinity });
}

function describeFile(file: string, report: FileReport): string {
  if (report.ok) return `OK: ${report.checked} records in ${file} verify`;
  const { line, seq, chain, problem } = report.broken!;
  const record = seq === undefined ? '' : ` (record seq ${seq}${chain ? `, chain ${chain}` : ''})`;
  return `BROKEN: ${file} line ${line}${record}: ${PROBLEMS[problem]}; ${report.checked} records before it verify`;
}

function describeStore(report: ChainReport, scope: string): string {
  if (report.ok) return `OK: ${report.checked} records in ${report.chains} chain${report.chains === 1 ? '' : 's'} verify (${scope})`;
  const { seq, chain, problem } = report.broken!;
  return `BROKEN: record seq ${seq} in chain ${chain || '(server)'}: ${PROBLEMS[problem]}; ${report.checked} records before it verify`;
}

export async function auditVerify(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommand(verifySpec, argv, io.stdout);
  if (!args) return 0;
  const { file, org, json } = args.values;
  if (file !== undefined && org !== undefined) throw usageError('--file and --org do not go together (a file holds one export)', verifySpec.name);
  let report: FileReport | ChainReport;
  let text: string;
  if (file !== undefined) {
    try {
      report = await verifyLines(fileLines(file));
    } catch (err) {
      throw commandFailed('not_found', `cannot read ${file}: ${(err as Error).message}`, err);
    }
    text = describeFile(file, report);
  } else {
    const config = loadCliConfig(args.values.config);
    ({ report, text } = await withStore(config, io, async (store) => {
      const scope = org === undefined ? undefined : await findOrg(store, org);
      const checked = await verifyStore(store, { orgId: scope?.id });
      return { report: checked, text: describeStore(checked, scope ? `organization ${scope.slug}` : 'every chain') };
    }));
  }
  io.stdout.write(json ? `${JSON.stringify(report)}\n` : `${text}\n`);
  return report.ok ? 0 : 1;
}

function exportArgs(values: { org?: string; format?: string; since?: string; until?: string }) {
  if (!values.org) throw usageError('missing --org', exportSpec.name);
  const format = values.format ?? 'jsonl';
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw usageError('--format must be jsonl or csv', exportSpec.name);
  const time = (name: 'since' | 'until') => {
    const raw = values[name];
    if (raw === undefined) return undefined;
    const at = parseTime(raw);
    if (at === undefined) throw usageError(`--${name} must be an ISO 8601 time or epoch seconds`, exportSpec.name);
    return at;
  };
  return { org: values.org, format: format as ExportFormat, since: time('since'), until: time('until') };
}

/** Write every chunk, waiting for `drain` whenever the destination is full (flat memory). */
async function writeAll(chunks: AsyncIterable<string>, out: NodeJS.WritableStream): Promise<number> {
  let bytes = 0;
  for await (const chunk of chunks) {
    bytes += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  }
  return bytes;
}

export async function auditExport(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommand(exportSpec, argv, io.stdout);
  if (!args) return 0;
  const request = exportArgs(args.values);
  const outFile = args.values.out;
  const config = loadCliConfig(args.values.config);
  return withStore(config, io, async (store) => {
    const org = await findOrg(store, request.org);
    const started = await openExport(store, { orgId: org.id, format: request.format, since: request.since, until: request.until });
    await store.audit.append(
      { at: Math.floor(Date.now() / 1000), orgId: org.id, actor: 'system', kind: 'audit.exported', subject: null, clientId: null, app: null, tool: null, decision: null, reason: null, details: { format: request.format, since: request.since ?? null, until: request.until ?? null, via: 'cli' } },
      auditHash,
    );
    if (outFile === undefined) {
      await writeAll(started.chunks, io.stdout);
      return 0;
    }
    const partial = `${outFile}.partial`;
    const file = createWriteStream(partial, { mode: 0o600 });
    try {
      const bytes = await writeAll(started.chunks, file);
      await new Promise<void>((resolve, reject) => file.end((err?: Error | null) => (err ? reject(err) : resolve())));
      renameSync(partial, outFile);
      io.stdout.write(`Exported the audit trail of ${org.slug} (${request.format}, ${bytes} bytes) to ${outFile}\n`);
      return 0;
    } catch (err) {
      file.destroy();
      rmSync(partial, { force: true });
      throw commandFailed('internal_error', `cannot write ${outFile}: ${(err as Error).message}`, err);
    }
  });
}
