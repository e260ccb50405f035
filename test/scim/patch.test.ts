/**
 * PATCH and filters as RFC 7644 §3.5.2 and §3.4.2.2 describe them, pure (no server): the shapes
 * IdPs send beyond what the Okta and Entra replays cover.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PortcullisError } from '../../src/core/errors.ts';
import { matches, parseFilter } from '../../src/scim/filter.ts';
import { applyPatch, readPatch } from '../../src/scim/patch.ts';
import { URN } from './support.ts';

const ops = (...Operations: unknown[]) => readPatch({ schemas: [URN.patch], Operations });
const scimType = (type: string) => (err: unknown) => err instanceof PortcullisError && err.rule === type;

describe('SCIM PATCH', () => {
  const user = { userName: 'kim@acme.test', name: { givenName: 'Kim', familyName: 'Lee' }, emails: [{ type: 'work', value: 'kim@acme.test', primary: true }, { type: 'home', value: 'kim@home.test' }] };

  it('sets sub-attributes without a path, merges a whole extension, and leaves the input alone', () => {
    const patched = applyPatch(user, ops({ op: 'replace', value: { 'name.givenName': 'Kimberly', [URN.enterprise]: { department: 'Sales' } } }, { op: 'add', value: { [URN.enterprise]: { employeeNumber: '7' } } }));
    assert.deepEqual(patched.name, { givenName: 'Kimberly', familyName: 'Lee' });
    assert.deepEqual(patched[URN.enterprise], { department: 'Sales', employeeNumber: '7' });
    assert.equal(user.name.givenName, 'Kim');
  });

  it('removes by value path and sub-attribute; adds a work e-mail that did not exist', () => {
    const removed = applyPatch(user, ops({ op: 'remove', path: 'emails[type eq "home"]' }, { op: 'remove', path: 'name.familyName' }));
    assert.deepEqual(removed.emails, [user.emails[0]]);
    assert.deepEqual(removed.name, { givenName: 'Kim' });
    const added = applyPatch({ userName: 'x' }, ops({ op: 'add', path: 'emails[type eq "work"].value', value: 'x@acme.test' }));
    assert.deepEqual(added.emails, [{ type: 'work', value: 'x@acme.test' }]);
  });

  it('refuses what RFC 7644 §3.5.2 does not allow', () => {
    assert.throws(() => ops({ op: 'remove' }), scimType('noTarget'));
    assert.throws(() => applyPatch(user, ops({ op: 'replace', path: 'meta', value: {} })), scimType('mutability'));
    assert.throws(() => applyPatch(user, ops({ op: 'replace', path: 'emails[type eq', value: 'x' })), scimType('invalidPath'));
    assert.throws(() => applyPatch(user, ops({ op: 'replace', path: 'emails[type zz "x"].value', value: 'x' })), scimType('invalidFilter'));
    assert.throws(() => applyPatch(user, ops({ op: 'replace', value: 'not an object' })), scimType('invalidValue'));
    assert.throws(() => readPatch({ schemas: ['urn:wrong'], Operations: [{ op: 'add', value: {} }] }), scimType('invalidSyntax'));
  });
});

describe('SCIM filters', () => {
  const resource = { userName: 'Kim@Acme.test', active: true, emails: [{ type: 'work', value: 'kim@acme.test' }], [URN.enterprise]: { department: 'Sales' }, meta: { lastModified: '2026-12-07T10:00:00.000Z' } };
  const yes = (text: string) => assert.equal(matches(parseFilter(text), resource), true, text);
  const no = (text: string) => assert.equal(matches(parseFilter(text), resource), false, text);

  it('matches as RFC 7644 §3.4.2.2 says, strings without regard to case', () => {
    yes('userName eq "kim@acme.test"');
    yes('USERNAME sw "kim"');
    yes('emails[type eq "work" and value co "@acme"]');
    yes(`${URN.enterprise}:department eq "sales"`);
    yes('meta.lastModified gt "2026-12-01T00:00:00Z"');
    yes('not (active eq false)');
    yes('title ne "x"');
    yes('userName pr and not (title pr)');
    no('active eq false');
    no('emails[type eq "home"]');
    assert.throws(() => parseFilter('userName eq'), scimType('invalidFilter'));
  });
});
