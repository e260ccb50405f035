/**
 * The effective configuration as the configuration page shows it: every value (one row per leaf,
 * dotted path), where it came from — an environment variable wins over the file, the file over
 * the defaults (core/config.ts loadConfig) — and no secret: values named like secrets are masked,
 * and URLs lose their password (RFC 3986 §3.2.1 deprecates it there, but people still put one).
 */
import type { Config } from '../../core/config.ts';

export interface ConfigRow {
  path: string;
  value: string;
  /** 'default', 'derived', the configuration file's path, or `environment (NAME)`. */
  origin: string;
  masked: boolean;
}

const MASK = '********';
// The settings that hold a credential (what `portcullis config check` masks: secretKey, smtp.password,
// registration.initialAccessToken, metrics.token, webhook secrets, identity providers' clientSecret
// and privateKeyJwt); `headers` and `env` of an upstream carry its credentials too. By exact name:
// `tokens.accessTokenTtl` or `limits.tokenEndpoint` are not secrets.
const SECRET_NAME = /^(secretKey|password|initialAccessToken|token|secret|clientSecret|privateKeyJwt|privateKey|apiKey)$/i;
const SECRET_PARENT = /(^|\.)(headers|env)\./;

function flatten(value: unknown, prefix: string, out: [string, unknown][]): void {
  if (typeof value === 'object' && value !== null && !(Array.isArray(value) && value.every((v) => typeof v !== 'object'))) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (!entries.length) out.push([prefix, Array.isArray(value) ? [] : {}]);
    for (const [key, inner] of entries) flatten(inner, prefix ? `${prefix}.${key}` : key, out);
    return;
  }
  out.push([prefix, value]);
}

function maskUrl(text: string): string | undefined {
  const url = URL.parse(text);
  if (!url || !(url.password || url.username) || !url.host) return undefined;
  url.password = url.password ? '****' : '';
  return url.href;
}

function shown(path: string, value: unknown): { value: string; masked: boolean } {
  const leaf = path.split('.').at(-1) ?? path;
  if (value !== undefined && value !== null && value !== '' && (SECRET_NAME.test(leaf) || SECRET_PARENT.test(path))) return { value: MASK, masked: true };
  if (typeof value === 'string') {
    const url = maskUrl(value);
    return url && url !== value ? { value: url, masked: true } : { value, masked: false };
  }
  return { value: value === undefined ? '(not set)' : JSON.stringify(value), masked: false };
}

/** A path is set by a source when that source wrote it, or a part of it (an object or list), or something inside it. */
function within(path: string, written: string): boolean {
  return written === path || path.startsWith(`${written}.`) || written.startsWith(`${path}.`);
}

function originOf(path: string, config: Config): string {
  const origins = config.origins;
  // Overrides win over the environment, which wins over the file (core/config.ts loadConfig).
  if (origins?.overrides.some((p) => within(path, p))) return 'overrides (command line)';
  const variable = Object.entries(origins?.env ?? {}).find(([p]) => within(path, p));
  if (variable) return `environment (${variable[1]})`;
  const file = config.sources.find((s) => s !== 'defaults' && s !== 'environment');
  if (file && origins?.file.some((p) => within(path, p))) return file;
  if (path === 'publicUrl' && config.publicUrlDefaulted) return 'derived (from port)';
  return 'default';
}

export function configurationRows(config: Config): ConfigRow[] {
  const { sources: _sources, publicUrlDefaulted: _defaulted, origins: _origins, ...values } = config;
  const leaves: [string, unknown][] = [];
  flatten(values, '', leaves);
  return leaves
    .map(([path, value]) => ({ path, ...shown(path, value), origin: originOf(path, config) }))
    .sort((a, b) => a.path.localeCompare(b.path));
}
