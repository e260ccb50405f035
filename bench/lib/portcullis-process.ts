/**
 * What the gateway benchmarks share: a child process's readiness marker, the environment a
 * Portcullis child runs with, and `tools/call` load with autocannon (any non-2xx fails the run).
 */
import type { Store } from '../../src/store/store.ts';
import type { ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import { clientToRecord } from '../../src/authz/clients.ts';
import { hashPassword } from '../../src/core/crypto.ts';
import type { SecretKey } from '../../src/core/crypto.ts';

/** The confidential client whose client_credentials tokens the benchmarks call with. */
export const SERVICE_CLIENT = 'bench-service';

export const CALL = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: 'hello' } } });
export const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };

export function waitFor(child: ChildProcess, marker: string, stream: 'stdout' | 'stderr' = 'stdout'): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    child[stream]!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(marker)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`process exited (${code}) before it was ready:\n${seen}`)));
  });
}

export function portcullisEnv(dataDir: string, port: number, secret: string, database?: { url: string; schema: string }): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PORTCULLIS_DATA_DIR: dataDir,
    PORTCULLIS_PORT: String(port),
    PORTCULLIS_LOG_LEVEL: 'warn',
    PORTCULLIS_SECRET_KEY: Buffer.from(secret.padEnd(43, 'x')).toString('base64url'),
    ...(database ? { DATABASE_URL: `${database.url}?options=-c%20search_path%3D${database.schema}` } : {}),
  };
}

export async function cannon(url: string, headers: Record<string, string>, options: { connections: number; seconds: number }) {
  const result = await autocannon({ url, method: 'POST', headers, body: CALL, connections: options.connections, duration: options.seconds });
  if (result.non2xx || result.errors) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

export async function addServiceClient(store: Store, pepper: SecretKey, secret: string, scopes: string[]): Promise<void> {
  await store.clients.upsert(
    clientToRecord(
      {
        client_id: SERVICE_CLIENT,
        client_secret: secret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
        portcullis_scopes: scopes,
      },
      pepper,
      'static',
    ),
  );
}

export async function serviceToken(issuer: string, resource: string, secret: string, scope: string): Promise<string> {
  const response = await fetch(`${issuer}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${SERVICE_CLIENT}:${secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope }),
  });
  const body = (await response.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`no token: ${JSON.stringify(body)}`);
  return body.access_token;
}

/** Latency one request at a time (no queueing behind other requests), to a tenth of a millisecond. */
export async function sequential(url: string, headers: Record<string, string>, rounds = 2000, body = CALL, warmUp = 200): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < rounds + warmUp; i++) {
    const started = performance.now();
    const res = await fetch(url, { method: 'POST', headers, body });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
    if (i >= warmUp) times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(rounds / 2)]!, p99: times[Math.floor(rounds * 0.99)]! };
}

/** The person the flow benchmarks sign in as: a user who owns an organization (tokens act for one, docs/design/identity.md). */
export async function addBenchUser(store: Store, email: string, password: string): Promise<void> {
  const user = await store.users.create({ email, passwordHash: await hashPassword(password) });
  const org = await store.orgs.create({ slug: 'bench', name: 'Bench' });
  await store.orgs.addMember(org.id, user.id, 'owner', Math.floor(Date.now() / 1000));
}

/** A confidential client for the authorization-code flow: its identity is proven, so consent is remembered (RFC 8252 §8.6). */
export async function addFlowClient(store: Store, pepper: SecretKey, client: { id: string; secret: string; redirect: string; grantTypes: string[] }): Promise<void> {
  await store.clients.upsert(
    clientToRecord(
      {
        client_id: client.id,
        client_secret: client.secret,
        client_name: 'Benchmark client',
        redirect_uris: [client.redirect],
        grant_types: client.grantTypes,
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      pepper,
      'static',
    ),
  );
}

/** Remove a benchmark's PostgreSQL schema. */
export async function dropBenchSchema(url: string, schema: string): Promise<void> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
