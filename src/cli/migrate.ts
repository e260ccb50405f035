/** `portcullis migrate`: apply pending migrations to the configured store and say which ran. */
import { CONFIG_HELP, commandFailed, describeError, parseCommand } from './args.ts';
import { loadCliConfig, openConfiguredStore, storeLocation, type CliIo } from './context.ts';

const spec = {
  name: 'migrate',
  help: `Usage: portcullis migrate [--json]

Applies pending schema migrations to the configured store — SQLite in the data directory, or
PostgreSQL when DATABASE_URL is set — and prints the versions applied. Safe to run while servers
are running and from several processes at once (migrations take a lock and are idempotent).
The server also migrates when it starts.

Options:
      --json          print {"dialect","location","applied","version"} as JSON
${CONFIG_HELP}
  -h, --help          show this help`,
  options: { json: { type: 'boolean' } },
} as const;

export async function migrate(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommand(spec, argv, io.stdout);
  if (!args) return 0;
  const config = loadCliConfig(args.values.config);
  const location = storeLocation(config);
  const store = await openConfiguredStore(config);
  try {
    let report;
    try {
      report = await store.migrate();
    } catch (err) {
      throw commandFailed('unavailable', `migration failed on ${location}: ${describeError(err)}`, err);
    }
    if (args.values.json) {
      io.stdout.write(`${JSON.stringify({ dialect: report.dialect, location, applied: report.applied, version: report.version })}\n`);
    } else if (report.applied.length) {
      const versions = report.applied.map((v) => String(v).padStart(4, '0')).join(', ');
      io.stdout.write(`Applied migration${report.applied.length > 1 ? 's' : ''} ${versions} to ${location} (${report.dialect}); schema version ${report.version}\n`);
    } else {
      io.stdout.write(`Nothing to apply: ${location} (${report.dialect}) is at schema version ${report.version}\n`);
    }
    return 0;
  } finally {
    await store.close().catch(() => {});
  }
}
