/**
 * The SCIM schema URNs (RFC 7643 §3, §8.7) and what the discovery endpoints answer (RFC 7644 §4):
 * minimal but valid — what this service provider supports, nothing more.
 */
export const URN = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  enterprise: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  list: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  patch: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
  config: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
} as const;

/** The most resources one list page holds (RFC 7644 §3.4.2.4 lets the provider cap `count`). */
export const MAX_PAGE = 200;

/** RFC 7643 §5. */
export function serviceProviderConfig(base: string) {
  return {
    schemas: [URN.config],
    documentationUri: 'https://github.com/portcullis/portcullis#scim-provisioning',
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_PAGE },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [{ type: 'oauthbearertoken', name: 'Bearer token', description: 'The organization\'s SCIM token (Authorization: Bearer …)', primary: true }],
    meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` },
  };
}

/** RFC 7643 §6. */
export function resourceTypes(base: string) {
  return [
    { schemas: [URN.resourceType], id: 'User', name: 'User', endpoint: '/Users', schema: URN.user, schemaExtensions: [{ schema: URN.enterprise, required: false }], meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/User` } },
    { schemas: [URN.resourceType], id: 'Group', name: 'Group', endpoint: '/Groups', schema: URN.group, meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/Group` } },
  ];
}

type Mutability = 'readOnly' | 'readWrite' | 'immutable';

function attribute(name: string, type: string, extra: { required?: boolean; multiValued?: boolean; mutability?: Mutability; uniqueness?: string; caseExact?: boolean; subAttributes?: unknown[] } = {}) {
  return { name, type, multiValued: extra.multiValued ?? false, required: extra.required ?? false, caseExact: extra.caseExact ?? false, mutability: extra.mutability ?? 'readWrite', returned: 'default', uniqueness: extra.uniqueness ?? 'none', ...(extra.subAttributes ? { subAttributes: extra.subAttributes } : {}) };
}

/** RFC 7643 §7: the attributes this provider keeps and acts on (others sent are kept and answered back). */
export function schemas(base: string) {
  const multi = (name: string) => attribute(name, 'complex', { multiValued: true, subAttributes: [attribute('value', 'string'), attribute('type', 'string'), attribute('primary', 'boolean'), attribute('display', 'string')] });
  return [
    {
      schemas: [URN.schema], id: URN.user, name: 'User', description: 'A person in the organization',
      attributes: [
        attribute('userName', 'string', { required: true, uniqueness: 'server' }),
        attribute('name', 'complex', { subAttributes: ['formatted', 'familyName', 'givenName'].map((n) => attribute(n, 'string')) }),
        attribute('displayName', 'string'),
        attribute('active', 'boolean'),
        multi('emails'),
        attribute('groups', 'complex', { multiValued: true, mutability: 'readOnly', subAttributes: [attribute('value', 'string'), attribute('display', 'string')] }),
      ],
      meta: { resourceType: 'Schema', location: `${base}/Schemas/${URN.user}` },
    },
    {
      schemas: [URN.schema], id: URN.group, name: 'Group', description: 'A group of the organization\'s people; may map to an org role',
      attributes: [attribute('displayName', 'string', { required: true, uniqueness: 'server' }), attribute('members', 'complex', { multiValued: true, subAttributes: [attribute('value', 'string', { mutability: 'immutable' }), attribute('display', 'string')] })],
      meta: { resourceType: 'Schema', location: `${base}/Schemas/${URN.group}` },
    },
    {
      schemas: [URN.schema], id: URN.enterprise, name: 'EnterpriseUser', description: 'Enterprise User (kept as sent)',
      attributes: [attribute('employeeNumber', 'string'), attribute('department', 'string'), attribute('manager', 'complex', { subAttributes: [attribute('value', 'string')] })],
      meta: { resourceType: 'Schema', location: `${base}/Schemas/${URN.enterprise}` },
    },
  ];
}

/** RFC 7644 §3.4.2: a page of resources. */
export function listResponse(resources: unknown[], total: number, startIndex: number) {
  return { schemas: [URN.list], totalResults: total, startIndex, itemsPerPage: resources.length, Resources: resources };
}

export const isoTime = (at: number) => new Date(at * 1000).toISOString();
