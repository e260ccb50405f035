/**
 * The gateway's view of a POST body (src/gateway/jsonrpc.ts, steps/check-messages.ts): what is
 * parsed is what the upstream gets, values exactly as written; and only MCP's JSON-RPC messages
 * are accepted, so nothing policy does not judge can slip through.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { needsExactParse, parseBody, serializeBody } from '../../../src/gateway/jsonrpc.ts';
import { checkMessages } from '../../../src/gateway/steps/check-messages.ts';

const roundTrip = (text: string) => serializeBody(parseBody(text)!).toString('utf8');

describe('parsing and re-serializing a body', () => {
  it('numbers keep their exact source when a double would change them', () => {
    for (const n of ['12345678901234567890', '9007199254740993', '9999999999999999', '1.50', '1e400', '1E+5', '-0', '-0.0', '0.0000001', '123456789.123456789', '0.30000000000000004']) {
      assert.equal(roundTrip(`{"a":${n}}`), `{"a":${n}}`, n);
    }
  });

  it('ordinary numbers, strings and structure come back the same', () => {
    const text = '[{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x","arguments":{"a":[1,2.5,-3,0.000001],"s":"10.0.0.1","u":"é"}}}]';
    assert.equal(roundTrip(text), text);
  });

  it('duplicate keys collapse to the value that was judged (the last)', () => {
    assert.equal(roundTrip('{"method":"a","method":"b"}'), '{"method":"b"}');
  });

  it('text inside strings never asks for the slow exact parse: a 1 MiB argument full of "2.0", addresses and digit runs', () => {
    // Every body says "jsonrpc":"2.0"; arguments carry versions, IPs, ids as strings, escaped quotes.
    const filler = 'v2.0 10.0.0.1 "9007199254740993" 1e400 -0 1.50 \\ \u0022 '.repeat(24_000);
    const body = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo', arguments: { text: filler, version: '2.0', n: [1, -3, 2.5, 0.000001, 123456789012345, 0.30000000000000004] } } });
    assert.ok(body.length > 1024 * 1024);
    assert.equal(needsExactParse(body), false);
    assert.equal(roundTrip(body), body);
  });

  it('a number outside strings that a double would change asks for the exact parse, wherever it stands', () => {
    for (const n of ['12345678901234567890', '9007199254740993', '1.50', '1e400', '1E+5', '-0', '0.0000001']) {
      for (const text of [`{"a":${n}}`, `[${n}]`, `{"s":"x\\\\","a":${n}}`, `{"s":"\\\\\\"","a":[true,null,${n}]}`, n]) {
        assert.doesNotThrow(() => JSON.parse(text), text); // the predicate is asked only about valid JSON
        assert.equal(needsExactParse(text), true, text);
      }
      assert.equal(needsExactParse(`{"a":"${n}","b":"\\"${n}\\""}`), false, `${n} inside strings`);
    }
  });

  it('a body with a 64-bit id beside a large string argument keeps both exactly', () => {
    const text = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"account":18446744073709551615,"text":"${'2.0 '.repeat(100_000)}"}}}`;
    assert.equal(roundTrip(text), text);
  });

  it('not JSON → undefined (the gateway answers -32700)', () => {
    for (const text of ['', '{', '\ufeff{}', "{'a':1}", '{"a":1}x']) assert.equal(parseBody(text), undefined, JSON.stringify(text));
  });
});

describe('only MCP JSON-RPC messages', () => {
  const ok = [
    { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } },
    { jsonrpc: '2.0', id: 'a', method: 'tools/list' },
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { jsonrpc: '2.0', id: 3, result: {} },
    { jsonrpc: '2.0', id: 4, error: { code: 1, message: 'no' } },
  ];

  it('requests, notifications/* and responses pass', () => {
    assert.equal(checkMessages(ok), undefined);
  });

  it('everything else is -32600, with the id when it has one', () => {
    const bad: [unknown, string | number | null][] = [
      [[{ jsonrpc: '2.0', id: 1, method: 'tools/call' }], null],
      ['tools/call', null],
      [null, null],
      [{ id: 1, method: 'tools/call' }, 1],
      [{ jsonrpc: '1.0', id: 1, method: 'tools/call' }, 1],
      [{ jsonrpc: '2.0', method: 'tools/call', params: { name: 'x' } }, null],
      [{ jsonrpc: '2.0', method: 'ping' }, null],
      [{ jsonrpc: '2.0', id: null, method: 'tools/call' }, null],
      [{ jsonrpc: '2.0', id: {}, method: 'tools/call' }, null],
      [{ jsonrpc: '2.0', id: 2, method: 7 }, 2],
      [{ jsonrpc: '2.0', id: 2, method: 'tools/call', params: ['x'] }, 2],
      [{ jsonrpc: '2.0', id: 5 }, 5],
      [{ jsonrpc: '2.0', result: {} }, null],
    ];
    for (const [message, id] of bad) {
      const problem = checkMessages([...ok, message]);
      assert.equal(problem?.code, -32600, JSON.stringify(message));
      assert.equal(problem?.id, id, JSON.stringify(message));
    }
  });
});
