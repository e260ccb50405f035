/**
 * The environment a stdio MCP server starts with. Not the gateway's: that holds the database URL,
 * the root secret and whatever else the operator gave Portcullis. A process gets only what a
 * program needs to run (the same short list the MCP SDKs inherit by default for stdio servers),
 * then the application's configured `env`, then who it serves:
 *
 *   PORTCULLIS_APPLICATION  the application's slug
 *   PORTCULLIS_ISOLATION    "per-user" or "shared"
 *   PORTCULLIS_USER_SUB     per-user only: the user this process serves (`sub` of their tokens)
 *   PORTCULLIS_CLIENT_ID    per-user only: the OAuth client whose request started the process
 *                           (a user's other clients share it; each request's `_meta` names its own)
 *
 * These four are always set by the gateway (or removed): a configured value never replaces them.
 *
 * Per-user processes may keep per-user state apart: `${user}` in a configured value becomes the
 * user's subject made safe for file names (e.g. `MEMORY_FILE_PATH=/var/lib/mcp/memory-${user}.json`),
 * so two users' processes never share a file. In shared mode `${user}` is left empty.
 */

export const IDENTITY_ENV = {
  application: 'PORTCULLIS_APPLICATION',
  isolation: 'PORTCULLIS_ISOLATION',
  subject: 'PORTCULLIS_USER_SUB',
  clientId: 'PORTCULLIS_CLIENT_ID',
} as const;

const INHERITED =
  process.platform === 'win32'
    ? ['APPDATA', 'HOMEDRIVE', 'HOMEPATH', 'LOCALAPPDATA', 'PATH', 'PATHEXT', 'PROCESSOR_ARCHITECTURE', 'SYSTEMDRIVE', 'SYSTEMROOT', 'TEMP', 'TMP', 'USERNAME', 'USERPROFILE', 'PROGRAMFILES']
    : ['HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'];

export interface SpawnIdentity {
  application: string;
  isolation: 'per-user' | 'shared';
  /** Set for per-user processes. */
  subject?: string;
  clientId?: string;
}

export function spawnEnvironment(parent: NodeJS.ProcessEnv, configured: Record<string, string>, identity: SpawnIdentity): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED) {
    const value = parent[name];
    // Exported shell functions ("() { …") are not values a server needs and a known injection vector.
    if (value !== undefined && !value.startsWith('()')) env[name] = value;
  }
  const user = identity.isolation === 'per-user' && identity.subject !== undefined ? fileSafe(identity.subject) : '';
  for (const [name, value] of Object.entries(configured)) env[name] = value.replaceAll('${user}', user);
  for (const name of Object.values(IDENTITY_ENV)) delete env[name];
  env[IDENTITY_ENV.application] = identity.application;
  env[IDENTITY_ENV.isolation] = identity.isolation;
  if (identity.isolation === 'per-user') {
    if (identity.subject !== undefined) env[IDENTITY_ENV.subject] = identity.subject;
    if (identity.clientId !== undefined) env[IDENTITY_ENV.clientId] = identity.clientId;
  }
  return env;
}

/** A subject as a file-name part: letters, digits, `-`, `_` and `.` kept, anything else hex-escaped. */
export function fileSafe(subject: string): string {
  return subject.replace(/[^A-Za-z0-9_.-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).replace(/^\./, '%2e');
}
