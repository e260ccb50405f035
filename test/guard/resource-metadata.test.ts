/** OAuth 2.0 Protected Resource Metadata (RFC 9728): where the document lives and what it says. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resourceMetadataDocument, resourceMetadataUrl } from '../../src/shared/resource-metadata.ts';

describe('guard: protected resource metadata', () => {
  it('inserts the well-known segment between host and path (RFC 9728 §3.1)', () => {
    assert.equal(resourceMetadataUrl('https://host.example/mcp'), 'https://host.example/.well-known/oauth-protected-resource/mcp');
    assert.equal(resourceMetadataUrl('https://host.example/team/a/mcp'), 'https://host.example/.well-known/oauth-protected-resource/team/a/mcp');
    assert.equal(resourceMetadataUrl('https://host.example:8443/mcp'), 'https://host.example:8443/.well-known/oauth-protected-resource/mcp');
    assert.equal(resourceMetadataUrl('http://localhost:3000/mcp'), 'http://localhost:3000/.well-known/oauth-protected-resource/mcp');
  });

  it('a resource at the root has its document at the bare well-known URL (the terminating slash is removed)', () => {
    assert.equal(resourceMetadataUrl('https://host.example/'), 'https://host.example/.well-known/oauth-protected-resource');
    assert.equal(resourceMetadataUrl('https://host.example'), 'https://host.example/.well-known/oauth-protected-resource');
  });

  it('keeps a query component after the inserted segment (RFC 9728 §3.1)', () => {
    assert.equal(resourceMetadataUrl('https://host.example/mcp?tenant=a'), 'https://host.example/.well-known/oauth-protected-resource/mcp?tenant=a');
  });

  it('lists the resource, its authorization servers, its scopes and header-only bearer use', () => {
    const doc = resourceMetadataDocument({
      resource: 'https://host.example/mcp',
      authorizationServers: ['https://host.example'],
      scopes: ['demo:read', 'demo:write', 'demo:delete'],
      name: 'Demo notes',
      documentation: 'https://host.example/docs',
    });
    assert.deepEqual(doc, {
      resource: 'https://host.example/mcp',
      authorization_servers: ['https://host.example'],
      scopes_supported: ['demo:read', 'demo:write', 'demo:delete'],
      bearer_methods_supported: ['header'],
      resource_name: 'Demo notes',
      resource_documentation: 'https://host.example/docs',
    });
  });

  it('omits optional members that were not given', () => {
    const doc = resourceMetadataDocument({ resource: 'https://h.example/mcp', authorizationServers: ['https://h.example'], scopes: [] });
    assert.ok(!('resource_name' in doc) && !('resource_documentation' in doc));
  });
});
