/**
 * What an administrator may register (clients/input.ts), as the console, the admin API and the CLI
 * all see it: each refusal is `invalid_request` naming the offending field, and what is accepted
 * becomes RFC 7591 metadata (public clients: `none`; client_credentials: confidential by default).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPortcullisError } from '../../src/core/errors.ts';
import { planRegistration } from '../../src/clients/input.ts';

const id = () => 'app_test';

function refusedPaths(input: unknown, known?: string[]): string[] {
  try {
    planRegistration(input, id, known);
  } catch (err) {
    assert.ok(isPortcullisError(err));
    assert.equal(err.code, 'invalid_request');
    return (err.detail.errors as { path: string }[]).map((e) => e.path);
  }
  assert.fail('accepted');
}

describe('registering a client: what may be said', () => {
  it('refuses unsafe redirect URIs (OAuth 2.1 §2.3.1, RFC 8252 §7.1), each by its index', () => {
    const uris = ['https://ok.example/cb', 'http://app.example.com/cb', 'https://app.example.com/cb#x', 'javascript:alert(1)', '/relative', 'http://127.0.0.1:9/cb', 'com.example.app:/cb'];
    assert.deepEqual(refusedPaths({ name: 'A', redirectUris: uris }), ['redirectUris.1', 'redirectUris.2', 'redirectUris.3', 'redirectUris.4']);
  });

  it('refuses combinations that do not fit together', () => {
    assert.deepEqual(refusedPaths({ name: 'A', tokenEndpointAuthMethod: 'none', grants: ['client_credentials'] }), ['tokenEndpointAuthMethod']);
    assert.deepEqual(refusedPaths({ name: 'A', grants: ['authorization_code'] }), ['redirectUris']);
    assert.deepEqual(refusedPaths({ name: 'A', tokenEndpointAuthMethod: 'private_key_jwt', grants: ['client_credentials'] }), ['jwksUri']);
    assert.deepEqual(refusedPaths({ name: 'A', tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: 'http://keys.example/jwks', grants: ['client_credentials'] }), ['jwksUri']);
    assert.deepEqual(refusedPaths({ name: 'A', jwksUri: 'https://keys.example/jwks', grants: ['client_credentials'] }), ['jwksUri']);
    assert.deepEqual(refusedPaths({ name: 'A', grants: ['client_credentials'], applications: ['https://elsewhere.example/mcp'] }, ['https://here.example/mcp']), ['applications.0']);
    assert.deepEqual(refusedPaths({ name: 'A', grants: ['client_credentials'], scopes: ['ok', 'not"ok'] }), ['scopes.1']);
    assert.deepEqual(refusedPaths({ name: 'A', grants: ['client_credentials'], clientId: 'portcullis-cli' }), ['clientId']);
    assert.deepEqual(refusedPaths({ name: ' ', grants: ['client_credentials'], extra: 1 }).sort(), ['extra', 'name']);
  });

  it('turns what is accepted into engine metadata', () => {
    const service = planRegistration({ name: 'Job', grants: ['client_credentials'], applications: ['https://here.example/mcp'], scopes: ['notes:read'] }, id, ['https://here.example/mcp']);
    assert.equal(service.metadata.token_endpoint_auth_method, 'client_secret_basic');
    assert.ok(service.secretBased);
    assert.deepEqual(service.metadata.portcullis_applications, ['https://here.example/mcp']);
    const native = planRegistration({ name: 'App', redirectUris: ['com.example.app:/cb'] }, id);
    assert.equal(native.metadata.token_endpoint_auth_method, 'none');
    assert.equal(native.metadata.application_type, 'native');
    assert.deepEqual(native.metadata.grant_types, ['authorization_code', 'refresh_token']);
    assert.equal(native.confidential, false);
    const signed = planRegistration({ name: 'Signed', tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: 'https://keys.example/jwks', grants: ['client_credentials'] }, id);
    assert.equal(signed.secretBased, false);
    assert.equal(signed.metadata.jwks_uri, 'https://keys.example/jwks');
  });
});
