/**
 * The guard authenticates to Portcullis with HTTP Basic as RFC 6749 §2.3.1 says: id and secret
 * form-encoded first, so a secret holding `:`, `%` or a space still arrives as it was set.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { basicAuthorization } from '../../src/sdk/guard/client-secret.ts';

const decoded = (header: string) => Buffer.from(header.replace(/^Basic /, ''), 'base64').toString('utf8');

describe('the guard client secret on the wire', () => {
  it('form-encodes the id and the secret before joining them (RFC 6749 §2.3.1)', () => {
    const header = basicAuthorization('files server', 'p:a%ss word');
    assert.match(header, /^Basic [A-Za-z0-9+/]+=*$/);
    assert.equal(decoded(header), 'files+server:p%3Aa%25ss+word');
    // What a server does with it: split at the one raw colon, then form-decode each side.
    const [id, secret] = decoded(header).split(':').map((part) => decodeURIComponent(part.replace(/\+/g, ' ')));
    assert.deepEqual([id, secret], ['files server', 'p:a%ss word']);
  });
});
