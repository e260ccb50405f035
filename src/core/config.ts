/**
 * One strict configuration schema. Sources, later wins: defaults → `portcullis.config.json`
 * (or the file named by PORTCULLIS_CONFIG) → environment variables (PORTCULLIS_*, DATABASE_URL). Unknown keys, unknown PORTCULLIS_* variables, wrong types and unsafe combinations
 * are refused with an error naming the key; defaults serve the embedded single-process case.
 */
import { fieldErrors } from './input.ts';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as z from 'zod';
import { PortcullisError, type FieldError } from './errors.ts';
import { isLoopbackUrl } from '../shared/net.ts';
import { ApplicationDefinitionSchema, definitionProblems, isRegExp, resolveApplication } from './application.ts';
import { LimitSettingsSchema, RateSchema, describeRate, withinRate } from './limit-settings.ts';
import { IdentityProvidersSchema, OrganizationConnectionsSchema } from './identity-providers.ts';

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Seconds, given as a positive integer or a string such as "30m", "14d" (or "1800": seconds). */
const duration = (max: number) =>
  z
    // A unit-less string is seconds: environment variables are always strings, and the README
    // documents PORTCULLIS_*_TTL as "seconds or 30m, 14d…" (PORTCULLIS_ACCESS_TOKEN_TTL=1800 was refused).
    .union([z.int().positive(), z.string().regex(/^\d+[smhd]?$/, 'expected seconds or a duration such as "30m", "14d"')])
    .transform((value) => {
      if (typeof value === 'number') return value;
      const unit = DURATION_UNITS[value.slice(-1)];
      return unit === undefined ? Number(value) : Number(value.slice(0, -1)) * unit;
    })
    .refine((seconds) => seconds > 0 && seconds <= max, `must be between 1 second and ${max} seconds`);

export const CLIENT_KINDS = ['pre-registered', 'metadata-document', 'dynamic'] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

const DAY = 86400;

/**
 * An audit webhook (audit/webhooks.ts). The operator names it, so it is trusted like the rest of
 * this file, yet records must not cross a network in the clear: https, or plain http to a loopback
 * host only (a local relay, tests); never credentials in the URL.
 */
const AuditWebhookSchema = z.strictObject({
  url: z.url().refine((raw) => {
    const url = new URL(raw);
    return !url.username && !url.password && (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackUrl(url)));
  }, 'expected an https URL without credentials (http only to localhost)'),
  /** The HMAC-SHA256 key of the `Portcullis-Signature` header. */
  secret: z.string().min(16, 'use at least 16 characters'),
  /** Only records whose kind starts with one of these (`gateway.`, `admin.`…); absent: every record. */
  kinds: z.array(z.string().min(1)).min(1).optional(),
  /** Only this organization's records (its id, `org_…`). */
  orgId: z.string().min(1).optional(),
});

export const ConfigSchema = z.strictObject({
  /** The issuer and public base URL, e.g. https://auth.example.com. Default: http://localhost:<port>. */
  publicUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** Address to bind. Loopback by default: put a TLS-terminating proxy in front for anything else. */
  host: z.string().min(1).default('127.0.0.1'),
  port: z.int().min(0).max(65535).default(3000),
  /** Where SQLite, the generated root secret and other local state live. */
  dataDir: z.string().min(1).default('./data'),
  /** postgres:// URL; when set, PostgreSQL replaces the embedded SQLite store. */
  databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgres:// or postgresql:// URL').optional(),
  /** Root secret (base64url, ≥ 32 bytes). Default: generated into <dataDir>/secret.key (mode 0600). */
  secretKey: z.string().regex(/^[\w-]{43,}$/, 'expected at least 32 random bytes, base64url-encoded').optional(),
  /** Trust X-Forwarded-* from a reverse proxy (client IP, scheme). */
  trustProxy: z.boolean().default(false),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  tokens: z
    .strictObject({
      accessTokenTtl: duration(DAY).default(30 * 60),
      /** Absolute lifetime of a refresh-token chain, from the original sign-in. */
      refreshTokenTtl: duration(365 * DAY).default(30 * DAY),
      /** A refresh token unused for this long expires. */
      refreshTokenIdleTtl: duration(365 * DAY).default(14 * DAY),
      /** A rotated refresh token presented again within this window gets a valid sibling, not a revoked grant. */
      refreshGraceSeconds: z.int().min(0).max(60).default(10),
      authorizationCodeTtl: duration(600).default(60),
      /** How long a device flow's user code can be entered and its device code polled (RFC 8628 §3.2 expires_in). */
      deviceCodeTtl: duration(DAY).default(15 * 60),
      /** How long a browser sign-in session lasts. */
      sessionTtl: duration(90 * DAY).default(14 * DAY),
    })
    .prefault({}),
  registration: z
    .strictObject({
      /** Dynamic Client Registration (RFC 7591). Default: open when dynamic clients are allowed, else off. */
      policy: z.enum(['open', 'initial-access-token', 'off']).optional(),
      initialAccessToken: z.string().min(16).optional(),
      /** Dynamically registered clients that never complete an authorization are removed after this. */
      unusedClientTtl: duration(30 * DAY).default(DAY),
    })
    .prefault({}),
  /** Which kinds of clients may connect. */
  clientKinds: z.array(z.enum(CLIENT_KINDS)).min(1).default([...CLIENT_KINDS]),
  gateway: z
    .strictObject({
      /** Largest request body the gateway accepts (413 above it). */
      maxRequestBytes: z.int().min(1024).max(64 * 1024 * 1024).default(4 * 1024 * 1024),
    })
    .prefault({}),
  /**
   * Connection limits of the HTTP server (http/connection-limits.ts, server/app.ts). Long-lived MCP
   * streams are answers, not requests: these bound only how long a client may take to send one.
   */
  http: z
    .strictObject({
      /** A client must send a request's headers within this time (slow-header attacks). */
      headersTimeout: duration(600).default(20),
      /** ... and the whole request, body included, within this time. */
      requestTimeout: duration(3600).default(120),
      /** An idle keep-alive connection is closed after this time (above common load balancers' 60 s). */
      keepAliveTimeout: duration(3600).default(65),
      /**
       * Connections one client address may hold open at once; more are closed on arrival. 0: no
       * bound. Default 256, or none when `trustProxy` is set (every connection then comes from the proxy).
       */
      maxConnectionsPerAddress: z.int().min(0).max(1_000_000).optional(),
    })
    .prefault({}),
  /** MCP servers the gateway protects (see apps/definition.ts). The built-in demo is always at /mcp. */
  applications: z.array(ApplicationDefinitionSchema).default([]),
  /** Single sign-on connections (core/identity-providers.ts; README "Single sign-on"). */
  identityProviders: IdentityProvidersSchema,
  /** What organizations' own SSO connections may do: how their domains are verified, where their IdPs may be (core/identity-providers.ts). */
  organizationConnections: OrganizationConnectionsSchema,
  /**
   * What organizations' own applications may be: `allowPrivateUpstreams` lets an organization's
   * admins put an MCP server at a loopback or private address (development and tests only; otherwise
   * refused — the gateway would call internal services for whoever administers a team).
   */
  organizationApplications: z.strictObject({ allowPrivateUpstreams: z.boolean().default(false) }).prefault({}),
  /** Outgoing e-mail (invitations, password resets). Absent: links are shown to whoever asked instead. */
  smtp: z
    .strictObject({
      host: z.string().min(1),
      /** 587 (STARTTLS when offered) unless `secure`, then 465. */
      port: z.int().min(1).max(65535).optional(),
      /** TLS from the first byte (port 465); otherwise STARTTLS is used when the server offers it. */
      secure: z.boolean().default(false),
      user: z.string().min(1).optional(),
      password: z.string().min(1).optional(),
      /** The sender, e.g. `Portcullis <auth@example.com>`. */
      from: z.string().min(3),
    })
    .optional(),
  /** The audit trail (README "Audit trail"): how gateway decisions are written, how long records are kept, where they stream. */
  audit: z
    .strictObject({
      /**
       * `batched` (default): a gateway call is answered at once and its record is written within
       * `batchMs`; `strict`: a call is answered only once its record is committed; `off`: gateway
       * calls are not recorded (security events — sign-ins, tokens, admin changes — always are).
       */
      mode: z.enum(['batched', 'strict', 'off']).default('batched'),
      /** The longest a batched record waits before its batch is written (the window a crash can lose). */
      batchMs: z.int().min(1).max(5000).default(100),
      /** Records older than this many days are cut, each organization's chain keeping a checkpoint. 0: keep forever. */
      retentionDays: z.int().min(0).max(36500).default(0),
      /** Argument keys whose values are never recorded (case-insensitive regular expressions), for applications recording `full` arguments. */
      redactKeys: z
        .array(z.string().min(1).max(200).refine(isRegExp, 'expected a regular expression'))
        .default(['pass(word|wd)?', 'secret', 'token', 'api[-_]?key', 'authorization', 'cookie', 'credential', 'private[-_]?key']),
      /** Every committed record as one JSON line on stdout, for log shippers (logs stay on stderr; the start banner moves there too). */
      stdout: z.boolean().default(false),
      /** Receivers of every committed record (audit/webhooks.ts): signed POSTs, retried with back-off. */
      webhooks: z.array(AuditWebhookSchema).max(20).default([]),
    })
    .prefault({}),
  cimd: z
    .strictObject({
      /** Development only: let metadata-document fetches reach loopback and private addresses. */
      allowPrivateAddresses: z.boolean().default(false),
    })
    .prefault({}),
  /**
   * GET /metrics (Prometheus text format). Served on the main port only when `token` is set (a
   * Bearer token, compared in constant time); with `port`, on that port only (bound to `host`),
   * still asking for `token` when one is set. Neither: /metrics is not served (404).
   */
  metrics: z
    .strictObject({
      token: z.string().min(16, 'use at least 16 characters').optional(),
      port: z.int().min(0).max(65535).optional(),
    })
    .prefault({}),
  /** OpenTelemetry traces over OTLP/HTTP (JSON), off unless an endpoint is set. */
  telemetry: z
    .strictObject({
      /** The collector's base URL, as OTEL_EXPORTER_OTLP_ENDPOINT: spans go to <otlpEndpoint>/v1/traces. */
      otlpEndpoint: z.url({ protocol: /^https?$/ }).optional(),
      /** The full traces URL, as OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (wins over otlpEndpoint). */
      otlpTracesEndpoint: z.url({ protocol: /^https?$/ }).optional(),
      /** `service.name` of the spans (OTEL_SERVICE_NAME). */
      serviceName: z.string().min(1).default('portcullis'),
    })
    .prefault({}),
  /**
   * redis:// URL; when set, rate limits, quotas and attempt limits are counted in Redis, shared by
   * every instance (limits/backend.ts). Without it each process counts its own.
   */
  redisUrl: z.string().regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL').optional(),
  /** Rate limits and quotas (core/limit-settings.ts, limits/): none on gateway calls unless set. */
  limits: LimitSettingsSchema.extend({
    /** The OAuth token endpoint, per client address and per client id (429 in the RFC 6749 §5.2 shape). */
    tokenEndpoint: z.strictObject({ ip: RateSchema.optional(), client: RateSchema.optional() }).prefault({}),
    /** Dynamic client registration (RFC 7591), per client address. */
    registration: z.strictObject({ ip: RateSchema.optional() }).prefault({}),
    /** Prefix of every Redis key the limiter writes (several deployments may share one Redis). */
    keyPrefix: z.string().min(1).max(100).default('portcullis:limits:'),
  }).prefault({}),
});

export type ConfigInput = z.input<typeof ConfigSchema>;
type ParsedConfig = z.output<typeof ConfigSchema>;

export interface Config extends Omit<ParsedConfig, 'publicUrl' | 'registration'> {
  /** Issuer URL without a trailing slash. */
  publicUrl: string;
  /** True when publicUrl was derived from the port (so a server on port 0 may fix it after binding). */
  publicUrlDefaulted: boolean;
  registration: ParsedConfig['registration'] & { policy: 'open' | 'initial-access-token' | 'off' };
  /** Where the configuration came from, for `config check`. */
  sources: string[];
  /**
   * Which source set each path (dotted, as written there): the file's paths, the environment's
   * (path → variable), the overrides' (CLI flags, tests). Absent from hand-built configs. Read by
   * the console's configuration page (console/server-pages/config-origins.ts).
   */
  origins?: { file: string[]; env: Record<string, string>; overrides: string[] };
}

type EnvKind = 'string' | 'int' | 'bool' | 'list';
/** PORTCULLIS_* and friends → config path. */
const ENV_MAP: Record<string, { path: string; kind: EnvKind }> = {
  PORTCULLIS_PUBLIC_URL: { path: 'publicUrl', kind: 'string' },
  PORTCULLIS_HOST: { path: 'host', kind: 'string' },
  PORTCULLIS_PORT: { path: 'port', kind: 'int' },
  PORTCULLIS_DATA_DIR: { path: 'dataDir', kind: 'string' },
  DATABASE_URL: { path: 'databaseUrl', kind: 'string' },
  PORTCULLIS_SECRET_KEY: { path: 'secretKey', kind: 'string' },
  PORTCULLIS_TRUST_PROXY: { path: 'trustProxy', kind: 'bool' },
  PORTCULLIS_LOG_LEVEL: { path: 'logLevel', kind: 'string' },
  PORTCULLIS_ACCESS_TOKEN_TTL: { path: 'tokens.accessTokenTtl', kind: 'string' },
  PORTCULLIS_REFRESH_TOKEN_TTL: { path: 'tokens.refreshTokenTtl', kind: 'string' },
  PORTCULLIS_REFRESH_TOKEN_IDLE_TTL: { path: 'tokens.refreshTokenIdleTtl', kind: 'string' },
  PORTCULLIS_REFRESH_GRACE_SECONDS: { path: 'tokens.refreshGraceSeconds', kind: 'int' },
  PORTCULLIS_SESSION_TTL: { path: 'tokens.sessionTtl', kind: 'string' },
  PORTCULLIS_DEVICE_CODE_TTL: { path: 'tokens.deviceCodeTtl', kind: 'string' },
  PORTCULLIS_REGISTRATION: { path: 'registration.policy', kind: 'string' },
  PORTCULLIS_INITIAL_ACCESS_TOKEN: { path: 'registration.initialAccessToken', kind: 'string' },
  PORTCULLIS_CLIENT_KINDS: { path: 'clientKinds', kind: 'list' },
  PORTCULLIS_CIMD_ALLOW_PRIVATE: { path: 'cimd.allowPrivateAddresses', kind: 'bool' },
  PORTCULLIS_GATEWAY_MAX_REQUEST_BYTES: { path: 'gateway.maxRequestBytes', kind: 'int' },
  PORTCULLIS_HTTP_HEADERS_TIMEOUT: { path: 'http.headersTimeout', kind: 'string' },
  PORTCULLIS_HTTP_REQUEST_TIMEOUT: { path: 'http.requestTimeout', kind: 'string' },
  PORTCULLIS_HTTP_MAX_CONNECTIONS_PER_ADDRESS: { path: 'http.maxConnectionsPerAddress', kind: 'int' },
  PORTCULLIS_AUDIT_MODE: { path: 'audit.mode', kind: 'string' },
  PORTCULLIS_AUDIT_BATCH_MS: { path: 'audit.batchMs', kind: 'int' },
  PORTCULLIS_AUDIT_RETENTION_DAYS: { path: 'audit.retentionDays', kind: 'int' },
  PORTCULLIS_AUDIT_STDOUT: { path: 'audit.stdout', kind: 'bool' },
  PORTCULLIS_METRICS_TOKEN: { path: 'metrics.token', kind: 'string' },
  PORTCULLIS_METRICS_PORT: { path: 'metrics.port', kind: 'int' },
  // The OpenTelemetry SDK's standard variables (OpenTelemetry "Environment Variable Specification").
  OTEL_EXPORTER_OTLP_ENDPOINT: { path: 'telemetry.otlpEndpoint', kind: 'string' },
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: { path: 'telemetry.otlpTracesEndpoint', kind: 'string' },
  OTEL_SERVICE_NAME: { path: 'telemetry.serviceName', kind: 'string' },
  PORTCULLIS_SMTP_HOST: { path: 'smtp.host', kind: 'string' },
  PORTCULLIS_SMTP_PORT: { path: 'smtp.port', kind: 'int' },
  PORTCULLIS_SMTP_SECURE: { path: 'smtp.secure', kind: 'bool' },
  PORTCULLIS_SMTP_USER: { path: 'smtp.user', kind: 'string' },
  PORTCULLIS_SMTP_PASSWORD: { path: 'smtp.password', kind: 'string' },
  PORTCULLIS_SMTP_FROM: { path: 'smtp.from', kind: 'string' },
  REDIS_URL: { path: 'redisUrl', kind: 'string' },
  // Rates as "<calls>/<window>", e.g. PORTCULLIS_LIMIT_USER=600/1m (core/limit-settings.ts).
  PORTCULLIS_LIMIT_ORG: { path: 'limits.org', kind: 'string' },
  PORTCULLIS_LIMIT_USER: { path: 'limits.user', kind: 'string' },
  PORTCULLIS_LIMIT_CLIENT: { path: 'limits.client', kind: 'string' },
  PORTCULLIS_LIMIT_API_KEY: { path: 'limits.apiKey', kind: 'string' },
  PORTCULLIS_LIMIT_APPLICATION: { path: 'limits.application', kind: 'string' },
  PORTCULLIS_LIMIT_TOOL: { path: 'limits.tool', kind: 'string' },
  PORTCULLIS_QUOTA_ORG_DAY: { path: 'limits.quotas.org.day', kind: 'int' },
  PORTCULLIS_QUOTA_ORG_MONTH: { path: 'limits.quotas.org.month', kind: 'int' },
  PORTCULLIS_QUOTA_USER_DAY: { path: 'limits.quotas.user.day', kind: 'int' },
  PORTCULLIS_QUOTA_USER_MONTH: { path: 'limits.quotas.user.month', kind: 'int' },
  PORTCULLIS_LIMIT_TOKEN_IP: { path: 'limits.tokenEndpoint.ip', kind: 'string' },
  PORTCULLIS_LIMIT_TOKEN_CLIENT: { path: 'limits.tokenEndpoint.client', kind: 'string' },
  PORTCULLIS_LIMIT_REGISTRATION_IP: { path: 'limits.registration.ip', kind: 'string' },
};

/** PORTCULLIS_* variables that belong to other parts of the product, not to the server config. */
const OTHER_KNOWN_ENV = new Set(['PORTCULLIS_CONFIG', 'PORTCULLIS_TOKEN', 'PORTCULLIS_AUTH_FILE']);
/** Reserved for the project's own test suite (set by .ci/run). */
const TEST_ENV_PREFIX = 'PORTCULLIS_TEST_';

function fail(errors: FieldError[]): never {
  const summary = errors.map((e) => `${e.path}: ${e.message}`).join('; ');
  throw new PortcullisError('config_invalid', `invalid configuration — ${summary}`, { detail: { errors } });
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
}

function envValue(name: string, raw: string, kind: EnvKind, errors: FieldError[]): unknown {
  switch (kind) {
    case 'string':
      return raw;
    case 'int':
      if (/^\d+$/.test(raw)) return Number(raw);
      errors.push({ path: name, message: 'expected an integer' });
      return undefined;
    case 'bool':
      if (/^(true|1|yes|on)$/i.test(raw)) return true;
      if (/^(false|0|no|off)$/i.test(raw)) return false;
      errors.push({ path: name, message: 'expected true or false' });
      return undefined;
    case 'list':
      return raw.split(',').map((item) => item.trim()).filter(Boolean);
  }
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Explicit file path; otherwise PORTCULLIS_CONFIG, then ./portcullis.config.json when it exists. */
  file?: string;
  /** Values that win over everything (used by tests and the CLI's flags). */
  overrides?: ConfigInput;
  cwd?: string;
}

/** Load and validate. Throws PortcullisError('config_invalid') naming every offending key. */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const errors: FieldError[] = [];
  const sources: string[] = ['defaults'];
  const origins: NonNullable<Config['origins']> = { file: [], env: {}, overrides: [] };
  let input: Record<string, unknown> = {};

  const explicitFile = options.file ?? env.PORTCULLIS_CONFIG;
  const file = explicitFile ? resolve(cwd, explicitFile) : resolve(cwd, 'portcullis.config.json');
  if (explicitFile || existsSync(file)) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) fail([{ path: file, message: 'expected a JSON object' }]);
      input = parsed as Record<string, unknown>;
      sources.push(file);
      origins.file = Object.keys(flatten(input));
    } catch (err) {
      if (err instanceof PortcullisError) throw err;
      fail([{ path: file, message: err instanceof SyntaxError ? `not valid JSON (${err.message})` : 'cannot be read' }]);
    }
  }

  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined || raw === '') continue;
    const mapping = ENV_MAP[name];
    if (mapping) {
      const value = envValue(name, raw, mapping.kind, errors);
      if (value !== undefined) setPath(input, mapping.path, value);
      origins.env[mapping.path] = name;
      continue;
    }
    if (name.startsWith('PORTCULLIS_') && !OTHER_KNOWN_ENV.has(name) && !name.startsWith(TEST_ENV_PREFIX)) {
      errors.push({ path: name, message: 'unknown environment variable' });
    }
  }
  if (Object.keys(env).some((name) => ENV_MAP[name] && env[name])) sources.push('environment');

  for (const [path, value] of Object.entries(flatten(options.overrides ?? {}))) {
    setPath(input, path, value);
    origins.overrides.push(path);
  }
  if (errors.length) fail(errors);

  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) {
    // zod reports unknown keys once per object, at the object's path: name each key instead, so the
    // error says `tokens.acessTokenTtl` rather than `tokens` (or `(root)` for a top-level typo).
    fail(fieldErrors(parsed.error, 'unknown key'));
  }
  return { ...finish(parsed.data, sources), origins };
}

function flatten(value: object, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof inner === 'object' && inner !== null && !Array.isArray(inner)) Object.assign(out, flatten(inner, path));
    else out[path] = inner;
  }
  return out;
}

/** Derived defaults and cross-field rules (unsafe combinations). */
function finish(data: ParsedConfig, sources: string[]): Config {
  const errors: FieldError[] = [];
  const publicUrl = (data.publicUrl ?? `http://localhost:${data.port}`).replace(/\/+$/, '');
  const url = new URL(publicUrl);
  if (url.protocol === 'http:' && !isLoopbackUrl(url)) {
    errors.push({ path: 'publicUrl', message: 'must use https unless the host is loopback (localhost, 127.0.0.1, ::1)' });
  }
  if (url.search || url.hash || url.username || url.password) {
    errors.push({ path: 'publicUrl', message: 'must not contain a query, fragment or credentials (it is the OAuth issuer, RFC 8414 §2)' });
  }
  if (data.tokens.refreshTokenIdleTtl > data.tokens.refreshTokenTtl) {
    errors.push({ path: 'tokens.refreshTokenIdleTtl', message: 'must not exceed tokens.refreshTokenTtl' });
  }
  const dynamicAllowed = data.clientKinds.includes('dynamic');
  const policy = data.registration.policy ?? (dynamicAllowed ? 'open' : 'off');
  if (policy !== 'off' && !dynamicAllowed) {
    errors.push({ path: 'registration.policy', message: `is "${policy}" but clientKinds does not allow "dynamic"` });
  }
  if (policy === 'initial-access-token' && !data.registration.initialAccessToken) {
    errors.push({ path: 'registration.initialAccessToken', message: 'is required when registration.policy is "initial-access-token"' });
  }
  const paths = new Map<string, string>([['/mcp', 'demo']]);
  data.applications.forEach((app, i) => {
    if ('builtin' in app.upstream) errors.push({ path: `applications.${i}.upstream`, message: 'expected a url or a command' });
    if (app.slug === 'demo') errors.push({ path: `applications.${i}.slug`, message: '"demo" is the built-in demo application' });
    for (const problem of definitionProblems(app)) errors.push({ path: `applications.${i}.${problem.path}`, message: problem.message });
    const path = resolveApplication(app, '').path;
    const other = paths.get(path);
    if (other) errors.push({ path: `applications.${i}.path`, message: `${path} is already used by ${other}` });
    paths.set(path, app.slug);
  });
  if (new Set(data.applications.map((a) => a.slug)).size !== data.applications.length) {
    errors.push({ path: 'applications', message: 'two applications share a slug' });
  }
  if (data.http.headersTimeout > data.http.requestTimeout) {
    errors.push({ path: 'http.headersTimeout', message: 'must not exceed http.requestTimeout' });
  }
  for (const scope of ['client', 'apiKey'] as const) {
    const rate = data.limits[scope];
    if (rate && data.limits.org && !withinRate(rate, data.limits.org)) {
      errors.push({ path: `limits.${scope}`, message: `must be at most limits.org (${describeRate(data.limits.org)})` });
    }
  }
  if (data.smtp && (data.smtp.user === undefined) !== (data.smtp.password === undefined)) {
    errors.push({ path: data.smtp.user === undefined ? 'smtp.user' : 'smtp.password', message: 'smtp.user and smtp.password go together' });
  }
  if (data.metrics.port !== undefined && data.metrics.port !== 0 && data.metrics.port === data.port) {
    errors.push({ path: 'metrics.port', message: 'must differ from port (leave it out to serve /metrics on the main port with metrics.token)' });
  }
  if (errors.length) fail(errors);
  return { ...data, publicUrl, publicUrlDefaulted: data.publicUrl === undefined, registration: { ...data.registration, policy }, sources };
}

/** Things that are allowed but deserve a warning (`portcullis config check`). */
export function configWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (config.cimd.allowPrivateAddresses) {
    warnings.push('cimd.allowPrivateAddresses is on: metadata-document fetches may reach private and loopback addresses (development only)');
  }
  if (config.databaseUrl && !config.secretKey) {
    warnings.push('databaseUrl is set but secretKey is not: every instance sharing this database must share the same secret (set PORTCULLIS_SECRET_KEY)');
  }
  return warnings;
}
