/**
 * What the gateway benchmarks share: a child process's readiness marker, the environment a
 * Portcullis child runs with, and `tools/call` load with autocannon (any non-2xx fails the run).
 */
import type { Store } from '../../src/store/store.ts';
import type { ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import { clientToRecord } from '../../src/authz/clients.ts';
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
