/**
 * The stdio bridge's small parts on their own: reading lines off a pipe, the environment a
 * process starts with, protocol-version negotiation and the shape of 2026-07-28 results, and the
 * `_meta` a client cannot write into.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CALLER_META_KEY, rewriteMeta } from '../../../src/gateway/upstreams/stdio/caller-meta.ts';
import { IDENTITY_ENV, spawnEnvironment } from '../../../src/gateway/upstreams/stdio/env.ts';
import { discoverResult, modernResult, negotiateVersion } from '../../../src/gateway/upstreams/stdio/eras.ts';
import { lineSplitter } from '../../../src/gateway/upstreams/stdio/lines.ts';

describe('lines off a pipe', () => {
  it('splits on newlines across reads, drops a trailing \\r, and decodes a character split between reads whole', () => {
    const lines: string[] = [];
    const split = lineSplitter((l) => lines.push(l), () => assert.fail('no overflow'), 1024);
    const bytes = Buffer.from('{"a":1}\r\n{"b":"é€"}\n{"c"', 'utf8');
    const cut = bytes.indexOf(0xe2) + 1; // inside the three bytes of €
    split.push(bytes.subarray(0, cut));
    split.push(bytes.subarray(cut));
    split.push(Buffer.from(':3}'));
    split.end();
    assert.deepEqual(lines, ['{"a":1}', '{"b":"é€"}', '{"c":3}']);
  });

  it('a line over the limit is reported once with its size and skipped; the next line is read normally', () => {
    const lines: string[] = [];
    const overflows: number[] = [];
    const split = lineSplitter((l) => lines.push(l), (n) => overflows.push(n), 10);
    split.push(Buffer.from('0123456789abc'));
    split.push(Buffer.from('def\nok\n'));
    assert.deepEqual(overflows, [16]);
    assert.deepEqual(lines, ['ok']);
  });
});

describe('the environment a process starts with', () => {
  const parent = { PATH: '/usr/bin', HOME: '/home/gw', DATABASE_URL: 'postgres://secret', PORTCULLIS_SECRET_KEY: 'k', BASH_FUNC: '() { evil; }', SHELL: '() { x; }' };

  it('only what a program needs from the gateway’s, then the configured env, then who it serves (which config cannot override)', () => {
    const env = spawnEnvironment(parent, { API_BASE: 'https://api.example', [IDENTITY_ENV.subject]: 'spoofed' }, { application: 'notes', isolation: 'per-user', subject: 'u1', clientId: 'c1' });
    assert.deepEqual(env, {
      PATH: '/usr/bin',
      HOME: '/home/gw',
      API_BASE: 'https://api.example',
      PORTCULLIS_APPLICATION: 'notes',
      PORTCULLIS_ISOLATION: 'per-user',
      PORTCULLIS_USER_SUB: 'u1',
      PORTCULLIS_CLIENT_ID: 'c1',
    });
  });

  it('per-user state apart: ${user} in a configured value becomes the file-safe subject (empty when shared)', () => {
    const configured = { MEMORY_FILE_PATH: '/var/lib/mcp/memory-${user}.json' };
    const ada = spawnEnvironment(parent, configured, { application: 'memory', isolation: 'per-user', subject: 'usr_Ada42', clientId: 'c' });
    const odd = spawnEnvironment(parent, configured, { application: 'memory', isolation: 'per-user', subject: '../etc/pass wd', clientId: 'c' });
    const shared = spawnEnvironment(parent, configured, { application: 'memory', isolation: 'shared' });
    assert.equal(ada.MEMORY_FILE_PATH, '/var/lib/mcp/memory-usr_Ada42.json');
    assert.equal(odd.MEMORY_FILE_PATH, '/var/lib/mcp/memory-%2e.%2fetc%2fpass%20wd.json', 'no path separator or leading dot survives');
    assert.equal(shared.MEMORY_FILE_PATH, '/var/lib/mcp/memory-.json');
  });

  it('shared: no user at all', () => {
    const env = spawnEnvironment(parent, { [IDENTITY_ENV.subject]: 'spoofed' }, { application: 'notes', isolation: 'shared', subject: 'u1' });
    assert.equal(env[IDENTITY_ENV.subject], undefined);
    assert.equal(env[IDENTITY_ENV.clientId], undefined);
    assert.equal(env[IDENTITY_ENV.isolation], 'shared');
  });
});

describe('protocol eras', () => {
  it('a session gets the version it asked for when the process speaks it or a newer one, else the process’s', () => {
    assert.equal(negotiateVersion('2025-03-26', '2025-11-25'), '2025-03-26');
    assert.equal(negotiateVersion('2025-11-25', '2025-11-25'), '2025-11-25');
    assert.equal(negotiateVersion('2025-11-25', '2025-06-18'), '2025-06-18');
    assert.equal(negotiateVersion('2026-07-28', '2025-11-25'), '2025-11-25');
    assert.equal(negotiateVersion(undefined, '2025-11-25'), '2025-11-25');
    assert.equal(negotiateVersion('2025-03-26', 'some-future-version'), 'some-future-version');
  });

  it('2026-07-28 results: resultType always, ttlMs/cacheScope on cacheable ones, serverInfo in _meta; the ttlMs the server set is kept', () => {
    const info = { name: 's', version: '1' };
    assert.deepEqual(modernResult('tools/list', { tools: [] }, info), { tools: [], resultType: 'complete', ttlMs: 0, cacheScope: 'private', _meta: { 'io.modelcontextprotocol/serverInfo': info } });
    assert.deepEqual(modernResult('tools/call', { content: [], _meta: { x: 1 } }, info), { content: [], resultType: 'complete', _meta: { x: 1, 'io.modelcontextprotocol/serverInfo': info } });
    const kept = modernResult('resources/read', { contents: [], ttlMs: 5000, cacheScope: 'private', resultType: 'complete' }, info) as Record<string, unknown>;
    assert.equal(kept.ttlMs, 5000);
    assert.equal(kept.cacheScope, 'private');
  });

  it('a process that marks a result cacheScope "public" is overruled: every answer through the gateway is private (lists are filtered per token), its ttlMs kept', () => {
    const info = { name: 's', version: '1' };
    for (const method of ['tools/list', 'resources/list', 'resources/templates/list', 'prompts/list', 'resources/read', 'server/discover', 'tools/call']) {
      const result = modernResult(method, { ttlMs: 3_600_000, cacheScope: 'public' }, info) as Record<string, unknown>;
      assert.equal(result.cacheScope, 'private', method);
      assert.equal(result.ttlMs, 3_600_000, method);
    }
  });

  it('server/discover keeps only capabilities the 2026-07-28 schema knows', () => {
    const result = discoverResult({ protocolVersion: '2025-11-25', capabilities: { tools: {}, tasks: { list: {} }, logging: {} }, serverInfo: { name: 's', version: '1' } });
    assert.deepEqual(result.capabilities, { tools: {}, logging: {} });
    assert.deepEqual(result.supportedVersions, ['2026-07-28']);
  });
});

describe('_meta a client cannot write into', () => {
  it('removes every io.portcullis/ key from requests, notifications and responses, and keeps the rest', () => {
    const forged = { [CALLER_META_KEY]: { subject: 'x' }, 'io.portcullis/other': 1, progressToken: 3 };
    assert.deepEqual(rewriteMeta({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 't', _meta: forged } }), { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 't', _meta: { progressToken: 3 } } });
    assert.deepEqual(rewriteMeta({ jsonrpc: '2.0', method: 'n', params: { _meta: { [CALLER_META_KEY]: 1 } } }), { jsonrpc: '2.0', method: 'n', params: {} });
    assert.deepEqual(rewriteMeta({ jsonrpc: '2.0', id: 1, result: { roots: [], _meta: { [CALLER_META_KEY]: 1 } } }), { jsonrpc: '2.0', id: 1, result: { roots: [] } });
    assert.deepEqual(rewriteMeta({ jsonrpc: '2.0', id: 1, method: 'ping' }, (meta) => ({ ...meta, [CALLER_META_KEY]: 'me' })), { jsonrpc: '2.0', id: 1, method: 'ping', params: { _meta: { [CALLER_META_KEY]: 'me' } } });
  });
});
