/**
 * IP allow-lists (policy/rules/ip-allow.ts): CIDR matching for IPv4, IPv6 and IPv4-mapped IPv6,
 * per application and per tool, and the schema refusing entries that would not parse.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationDefinitionSchema } from '../../src/core/application.ts';
import { evaluate, GATEWAY_RULES } from '../../src/policy/index.ts';
import { ipAllowed, isCidr, normalizeIp } from '../../src/core/addresses.ts';
import { ipAllow } from '../../src/policy/rules/ip-allow.ts';
import { app, approvedTool, call, caller, input } from './support.ts';

describe('ipAllowed: CIDR matching', () => {
  it('IPv4 ranges and single addresses', () => {
    const ranges = ['10.0.0.0/8', '192.0.2.7'];
    assert.equal(ipAllowed(ranges, '10.255.1.2'), true);
    assert.equal(ipAllowed(ranges, '11.0.0.1'), false);
    assert.equal(ipAllowed(ranges, '192.0.2.7'), true, 'a bare address is a /32');
    assert.equal(ipAllowed(ranges, '192.0.2.8'), false);
  });

  it('prefix boundaries are exact', () => {
    const ranges = ['198.51.100.64/26'];
    assert.equal(ipAllowed(ranges, '198.51.100.63'), false);
    assert.equal(ipAllowed(ranges, '198.51.100.64'), true);
    assert.equal(ipAllowed(ranges, '198.51.100.127'), true);
    assert.equal(ipAllowed(ranges, '198.51.100.128'), false);
  });

  it('IPv6 ranges, in any textual form of the address', () => {
    const ranges = ['2001:db8:abcd::/48', '::1'];
    assert.equal(ipAllowed(ranges, '2001:db8:abcd:12::1'), true);
    assert.equal(ipAllowed(ranges, '2001:DB8:ABCD:0012:0000:0000:0000:0001'), true);
    assert.equal(ipAllowed(ranges, '2001:db8:abce::1'), false);
    assert.equal(ipAllowed(ranges, '::1'), true);
    assert.equal(ipAllowed(ranges, '[::1]'), true, 'brackets as in a URL');
    assert.equal(ipAllowed(['fe80::/10'], 'fe80::1%eth0'), true, 'a zone index is ignored');
  });

  it('an IPv4 peer on a dual-stack socket (::ffff:a.b.c.d) matches IPv4 ranges', () => {
    assert.equal(normalizeIp('::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(normalizeIp('::FFFF:10.1.2.3'), '10.1.2.3');
    assert.equal(ipAllowed(['10.0.0.0/8'], '::ffff:10.1.2.3'), true);
    assert.equal(ipAllowed(['10.0.0.0/8'], '::ffff:a01:203'), true, 'the hexadecimal form of ::ffff:10.1.2.3');
    assert.equal(ipAllowed(['10.0.0.0/8'], '::ffff:b01:203'), false);
  });

  it('an IPv4 address matches an IPv4-mapped range; an IPv4 range never matches a real IPv6 address', () => {
    assert.equal(ipAllowed(['::ffff:10.0.0.0/104'], '10.9.8.7'), true);
    assert.equal(ipAllowed(['::ffff:10.0.0.0/104'], '11.9.8.7'), false);
    assert.equal(ipAllowed(['::/0'], '10.0.0.1'), true, '::/0 contains the IPv4-mapped block, so every IPv4 host');
    assert.equal(ipAllowed(['2001:db8::/32'], '32.1.13.184'), false, 'the IPv4 address whose bits start like 2001:db8 is not in it');
    assert.equal(ipAllowed(['0.0.0.0/0'], '2001:db8::1'), false, 'an IPv4 catch-all is not an IPv6 one');
    assert.equal(ipAllowed(['0.0.0.0/0'], '::ffff:2001:db8'), true, 'but it does hold every IPv4-mapped address');
  });

  it('fails closed: an unparsable caller address matches nothing', () => {
    for (const ip of ['unknown', '', '10.0.0.1, 10.0.0.2', '10.0.0.256', 'localhost', '010.0.0.1']) {
      assert.equal(ipAllowed(['0.0.0.0/0', '::/0'], ip), false, ip);
    }
  });

  it('an entry that does not parse matches nothing and breaks nothing else', () => {
    assert.equal(ipAllowed(['not-an-ip', '10.0.0.0/8'], '10.1.1.1'), true);
    assert.equal(ipAllowed(['10.0.0.0/33'], '10.1.1.1'), false);
  });
});

describe('isCidr and the application schema', () => {
  it('accepts addresses and ranges of both families', () => {
    for (const value of ['10.0.0.0/8', '10.0.0.1', '0.0.0.0/0', '2001:db8::/32', '::1', '::/0', '::ffff:10.0.0.0/104']) assert.equal(isCidr(value), true, value);
  });

  it('refuses what would not parse: prefix too long, hex words, empty prefix, junk', () => {
    for (const value of ['10.0.0.0/33', '2001:db8::/129', 'dead', 'beef:', '10.0.0.0/', '10.0.0.0/8/8', '10.0.0.0/-1', '10.0.0.0/ 8', '10.0.0', '']) {
      assert.equal(isCidr(value), false, value);
    }
  });

  it('an application with a bad entry is refused at load, naming the field', () => {
    const parsed = ApplicationDefinitionSchema.safeParse({
      slug: 'vault',
      name: 'Vault',
      upstream: { url: 'http://127.0.0.1:1/mcp' },
      ipAllow: ['10.0.0.0/8', 'dead'],
      tools: { wipe: { ipAllow: ['10.0.0.0/33'] } },
    });
    assert.equal(parsed.success, false);
    const paths = parsed.error!.issues.map((i) => i.path.join('.')).sort();
    assert.deepEqual(paths, ['ipAllow.1', 'tools.wipe.ipAllow.0']);
  });
});

describe('ipAllow rule', () => {
  const vault = app({
    ipAllow: ['10.0.0.0/8', '2001:db8::/32'],
    tools: { wipe: { ipAllow: ['10.1.0.0/16'] } },
  });

  it('the application list applies to every request, whatever the method', () => {
    for (const target of [call('read'), { method: 'tools/list' }, { method: 'initialize' }, { method: 'resources/read', uri: 'file:///x' }]) {
      assert.deepEqual(ipAllow(input(vault, target, { caller: caller({ ip: '10.9.9.9' }) })), { allow: true });
      assert.deepEqual(ipAllow(input(vault, target, { caller: caller({ ip: '203.0.113.1' }) })), {
        allow: false,
        code: 'policy_denied',
        rule: 'ip-allow',
        detail: { resource: 'app:vault' },
      });
    }
  });

  it('a tool list narrows the application list for that tool only', () => {
    const from = (ip: string, name: string) => ipAllow(input(vault, call(name), { caller: caller({ ip }) }));
    assert.deepEqual(from('10.1.2.3', 'wipe'), { allow: true });
    assert.deepEqual(from('10.2.0.1', 'wipe'), { allow: false, code: 'policy_denied', rule: 'ip-allow', detail: { resource: 'tool:wipe' } });
    assert.deepEqual(from('10.2.0.1', 'read'), { allow: true });
    assert.deepEqual(from('2001:db8::5', 'read'), { allow: true });
    assert.equal(from('2001:db8::5', 'wipe').allow, false, 'an IPv6 caller is outside an IPv4-only tool list');
  });

  it('a tool list alone (no application list) restricts that tool only', () => {
    const open = app({ tools: { wipe: { ipAllow: ['::1/128', '127.0.0.0/8'] } } });
    assert.equal(ipAllow(input(open, call('wipe'), { caller: caller({ ip: '::ffff:127.0.0.1' }) })).allow, true);
    assert.equal(ipAllow(input(open, call('wipe'), { caller: caller({ ip: '192.0.2.1' }) })).allow, false);
    assert.equal(ipAllow(input(open, call('other'), { caller: caller({ ip: '192.0.2.1' }) })).allow, true);
  });

  it('a tool named like an Object.prototype member gets no rules from it', () => {
    const open = app({ tools: { wipe: { ipAllow: ['127.0.0.0/8'] } } });
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      assert.deepEqual(ipAllow(input(open, call(name), { caller: caller({ ip: '192.0.2.1' }) })), { allow: true }, name);
    }
  });

  it('in the gateway rule list, a caller outside the network is refused before scopes are even looked at', () => {
    const decision = evaluate(GATEWAY_RULES, {
      ...input(vault, call('wipe'), { caller: caller({ ip: '203.0.113.1', scopes: new Set() }) }),
      tool: approvedTool('wipe'),
    });
    assert.deepEqual(decision, { allow: false, code: 'policy_denied', rule: 'ip-allow', detail: { resource: 'app:vault' } });
  });
});
