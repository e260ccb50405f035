/**
 * `portcullis config check`: load the configuration exactly as `start` would, print the effective
 * values with secrets masked, and every warning. Invalid configuration → exit 1 with the keys named.
 * Reads the root-secret file (for its permission warning) only if it exists: checking creates nothing.
 */
import { existsSync } from 'node:fs';
import { configWarnings, type Config } from '../core/config.ts';
import { loadRootSecret, secretFilePath } from '../core/secrets.ts';
import { CONFIG_HELP, describeError, parseCommand } from './args.ts';
import { loadCliConfig, maskUrlPassword, type CliIo } from './context.ts';
import { maskDefinition } from '../applications/views.ts';

const spec = {
  name: 'config check',
  help: `Usage: portcullis config check [--json]

Loads the configuration the way the server does — defaults, then portcullis.config.json (or the
file named by PORTCULLIS_CONFIG / --config), then environment variables (PORTCULLIS_*,
DATABASE_URL) — and prints the effective values with secrets masked, followed by
any warnings. Exits 1, naming each offending key, when the configuration is invalid.

Options:
      --json          print {"config","sources","secret","warnings"} as JSON
${CONFIG_HELP}
  -h, --help          show this help`,
  options: { json: { type: 'boolean' } },
} as const;

const MASK = '********';

/** The configuration as shown to people: no secret value, no credentials in URLs. */
export function maskedConfig(config: Config): Record<string, unknown> {
  const { sources: _sources, publicUrlDefaulted: _defaulted, origins: _origins, publicUrl, ...rest } = config;
  return {
    publicUrl,
    ...rest,
    secretKey: config.secretKey ? MASK : null,
    databaseUrl: config.databaseUrl ? maskUrlPassword(config.databaseUrl) : null,
    redisUrl: config.redisUrl ? maskUrlPassword(config.redisUrl) : null,
    smtp: config.smtp ? { ...config.smtp, password: config.smtp.password ? MASK : undefined } : undefined,
    // Upstream headers and environments carry the upstreams' credentials.
    applications: config.applications.map(maskDefinition),
    registration: {
      ...config.registration,
      initialAccessToken: config.registration.initialAccessToken ? MASK : null,
    },
    audit: { ...config.audit, webhooks: config.audit.webhooks.map((hook) => ({ ...hook, secret: MASK })) },
    identityProviders: config.identityProviders.map((c) => ({ ...c, clientSecret: 'clientSecret' in c && c.clientSecret ? MASK : undefined, privateKeyJwt: 'privateKeyJwt' in c && c.privateKeyJwt ? MASK : undefined })),
    metrics: { ...config.metrics, token: config.metrics.token ? MASK : null },
    telemetry: {
      ...config.telemetry,
      otlpEndpoint: config.telemetry.otlpEndpoint ? maskUrlPassword(config.telemetry.otlpEndpoint) : null,
      otlpTracesEndpoint: config.telemetry.otlpTracesEndpoint ? maskUrlPassword(config.telemetry.otlpTracesEndpoint) : null,
    },
  };
}

function secretSource(config: Config, warnings: string[]): string {
  if (config.secretKey) return 'secretKey (configuration)';
  const file = secretFilePath(config.dataDir);
  if (!existsSync(file)) return `${file} (will be generated on first start)`;
  try {
    warnings.push(...loadRootSecret({ dataDir: config.dataDir }).warnings);
  } catch (err) {
    warnings.push(`${file} cannot be used: ${describeError(err)}`);
  }
  return file;
}

export async function configCheck(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommand(spec, argv, io.stdout);
  if (!args) return 0;
  const config = loadCliConfig(args.values.config);
  const warnings = configWarnings(config);
  const secret = secretSource(config, warnings);
  const shown = maskedConfig(config);
  if (args.values.json) {
    io.stdout.write(`${JSON.stringify({ config: shown, sources: config.sources, secret, warnings }, null, 2)}\n`);
    return 0;
  }
  const lines = [
    `Configuration is valid (sources: ${config.sources.join(' → ')})`,
    `Root secret: ${secret}`,
    '',
    JSON.stringify(shown, null, 2),
  ];
  if (warnings.length) lines.push('', ...warnings.map((w) => `warning: ${w}`));
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
