/**
 * The applications pages' form fields as the definition the admin API takes (console/server-pages/
 * application-input.ts): header and environment lines, time window lines, and a stored
 * definition shown back with its secrets masked — the schema, not this parser, judges the values.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { conditionsValues, pairs, serverInput, serverValues, timeWindowInput } from '../../src/console/server-pages/application-input.ts';

describe('application form fields', () => {
  it('reads "Name: value" header and NAME=value environment lines; a value may hold the separator', () => {
    assert.deepEqual(pairs('Authorization: Bearer a:b\n\n X-Team : blue ', ':'), { Authorization: 'Bearer a:b', 'X-Team': 'blue' });
    assert.deepEqual(pairs('URL=postgres://u:p@h/db?x=1', '='), { URL: 'postgres://u:p@h/db?x=1' });
    assert.deepEqual(pairs('no-separator', '='), { 'no-separator': '' }, 'left for the schema or the upstream to judge');
  });

  it('reads a time window line: hours, then an optional IANA zone and days (0 = Sunday)', () => {
    assert.deepEqual(timeWindowInput('09:00-17:30 Europe/Paris 1,2,3,4,5'), { from: '09:00', to: '17:30', timeZone: 'Europe/Paris', days: [1, 2, 3, 4, 5] });
    assert.deepEqual(timeWindowInput('22:00-06:00'), { from: '22:00', to: '06:00' });
    assert.deepEqual(timeWindowInput('0,6 08:00-12:00'.split(' ').reverse().join(' ')), { from: '08:00', to: '12:00', days: [0, 6] });
  });

  it('shows a stored definition with header and environment values masked, and keeps unshown settings on edit', () => {
    const stored = { slug: 'notes', name: 'Notes', upstream: { url: 'https://n.example/mcp', headers: { Authorization: 'Bearer s3cret' }, timeoutMs: 5000 }, tools: {} };
    const values = serverValues(stored);
    assert.equal(values.headers, 'Authorization: ********');
    assert.equal(values.kind, 'http');
    const edited = serverInput({ ...values, name: 'Notes 2' }, stored);
    assert.deepEqual(edited.upstream, { url: 'https://n.example/mcp', headers: { Authorization: '********' }, timeoutMs: 5000 });
    assert.equal(conditionsValues({ timeWindows: [{ from: '09:00', to: '17:00' }] }).timeWindows, '09:00-17:00 UTC');
  });
});
