/**
 * The permission matrix (issue 5 "Proof"; docs/design/identity.md is the model it proves): every
 * kind of person × every action × every resource level, through the gateway with OAuth tokens and
 * API keys, and through the org admin API.
 *
 * The expected answers come from the tables below — what each person may do on each resource,
 * written out by hand from identity.md (inheritance down W → P → F, a lower membership overriding
 * what it inherits, owners and admins reaching everything) — not from the code under test:
 *   - a credential that cannot hold the tool's scope (its highest level anywhere is lower) → 403
 *     insufficient_scope, before any resource is looked at;
 *   - otherwise a level on the resource too low, or a resource of another organization, or an id of
 *     another kind → policy_denied, rule resource-access, naming `<kind>:<id>`, never reaching the
 *     upstream;
 *   - otherwise the upstream runs it.
 * An API key's level on a resource is the lower of its own and its creator's: a key the service
 * would refuse (it exceeds the creator) is written to the store as if made before the creator lost
 * the permission, and must be capped at use all the same.
 *
 * The world: organization Acme (the server's) with workspaces W1 → project P1 → folder F1 and
 * W2 → P2 → F2; organization Globex with GW → GP → GF, owned by Olga, who is nobody in Acme.
 *
 * A member holding nothing anywhere gets no token at all: the consent page offers nothing, and
 * approving it ends the authorization with access_denied (the engine's answer when every scope was
 * refused).
 *
 * Admin API: owners and admins may do everything (within "only owners touch owners" and "an org
 * keeps an owner"), and so may an admin's API key with the admin permission (except minting
 * keys, which only a signed-in person may); a plain member or a key without the admin permission gets 403 forbidden; someone of
 * another org gets 404 not_found; a refused call changes nothing.
 */
import type { User } from '../../src/store/users.ts';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import type { ApiKeyInput } from '../../src/api-keys/service.ts';
import { adminClient, apiUrl, type AdminClient, type ApiAnswer } from '../admin/support.ts';
import type { TestServer } from '../helpers/server.ts';
import { tokenFor } from '../helpers/gateway.ts';
import type { OrgRole, ResourceRole } from '../../src/core/roles.ts';
import {
  ALL_SCOPES,
  APP,
  authorizationEnd,
  callTool,
  inParallel,
  issueOrPlantKey,
  LEVELS,
  listTools,
  startMatrixWorld,
  TOOL,
  waitForTools,
  type Level,
  type MatrixWorld,
  type ResourceName,
} from '../helpers/permission-matrix.ts';

type Levels = Partial<Record<ResourceName, Level>>;

const ACME: ResourceName[] = ['W1', 'P1', 'F1', 'W2', 'P2', 'F2'];
const RESOURCES: ResourceName[] = [...ACME, 'GW', 'GP', 'GF'];
const everywhere = (level: Level, names: ResourceName[] = RESOURCES): Levels => Object.fromEntries(names.map((r) => [r, level]));

const WHERE: Record<ResourceName, string> = {
  W1: 'workspace W1',
  P1: 'project P1 (in W1)',
  F1: 'folder F1 (in P1, in W1)',
  W2: 'workspace W2',
  P2: 'project P2 (in W2)',
  F2: 'folder F2 (in P2, in W2)',
  GW: "Globex's workspace GW",
  GP: "Globex's project GP (in GW)",
  GF: "Globex's folder GF (in GP, in GW)",
};

interface Person {
  handle: string;
  /** The org role in Acme (the server's org), or in Globex for its owner. */
  role: OrgRole;
  org?: 'globex';
  email?: string;
  memberships: [ResourceName, ResourceRole][];
  /** What identity.md says this person may do on each resource (absent: nothing). */
  levels: Levels;
}

const PEOPLE: Person[] = [
  { handle: 'the owner', role: 'owner', memberships: [], levels: everywhere('delete', ACME) },
  { handle: 'an admin', role: 'admin', memberships: [], levels: everywhere('delete', ACME) },
  { handle: 'a member with no memberships', role: 'member', memberships: [], levels: {} },
  { handle: 'a viewer of W1', role: 'member', memberships: [['W1', 'viewer']], levels: { W1: 'read', P1: 'read', F1: 'read' } },
  { handle: 'an editor of W1', role: 'member', memberships: [['W1', 'editor']], levels: { W1: 'write', P1: 'write', F1: 'write' } },
  { handle: 'a manager of W1', role: 'member', memberships: [['W1', 'manager']], levels: { W1: 'delete', P1: 'delete', F1: 'delete' } },
  { handle: 'a viewer of P1 only', role: 'member', memberships: [['P1', 'viewer']], levels: { P1: 'read', F1: 'read' } },
  { handle: 'an editor of F1 only', role: 'member', memberships: [['F1', 'editor']], levels: { F1: 'write' } },
  {
    handle: 'a manager of W1 who is only a viewer of P1',
    role: 'member',
    memberships: [['W1', 'manager'], ['P1', 'viewer']],
    levels: { W1: 'delete', P1: 'read', F1: 'read' },
  },
  // Olga owns Globex and is nobody in Acme: the mirror image, so every refusal of Globex's ids above
  // is seen to be about the organization, not the tool.
  { handle: 'the owner of another organization', role: 'owner', org: 'globex', email: 'olga@example.com', memberships: [], levels: everywhere('delete', ['GW', 'GP', 'GF']) },
];

interface Credential {
  handle: string;
  /** undefined: an OAuth token asking for every scope; else an API key asked of the service. */
  key?: (world: MatrixWorld) => ApiKeyInput;
  /** The key's own levels (inheritance written out), before its creator's cap. */
  own: Levels;
  /** Would the service issue it to this person now (it never exceeds its creator)? */
  needs?: (person: Person) => boolean;
  /** Else the field its refusal names (a prefix). */
  refusedField?: string;
}

const RANK: Record<Level, number> = { read: 1, write: 2, delete: 3 };
const reaches = (have: Level | undefined, need: Level) => have !== undefined && RANK[have] >= RANK[need];
const lower = (a: Level | undefined, b: Level | undefined) => (a && b ? (RANK[a] <= RANK[b] ? a : b) : undefined);
const highest = (levels: Levels) => Object.values(levels).reduce<Level | undefined>((best, l) => (reaches(best, l) ? best : l), undefined);

const CREDENTIALS: Credential[] = [
  { handle: 'with an OAuth token', own: everywhere('delete') },
  {
    handle: 'with a read key',
    key: () => ({ name: 'read', permissions: { mode: 'simple', level: 'read' }, expiry: 'never' }),
    own: everywhere('read'),
    needs: (p) => reaches(highest(p.levels), 'read'),
    refusedField: 'permissions.level',
  },
  {
    handle: 'with a read-write key',
    key: () => ({ name: 'read-write', permissions: { mode: 'simple', level: 'read-write' }, expiry: 'never' }),
    own: everywhere('write'),
    needs: (p) => reaches(highest(p.levels), 'write'),
    refusedField: 'permissions.level',
  },
  {
    handle: 'with a read-write key limited to P1',
    key: (w) => ({ name: 'P1 only', resources: [w.resources.P1.id], permissions: { mode: 'simple', level: 'read-write' }, expiry: 'never' }),
    own: { P1: 'write', F1: 'write' },
    needs: (p) => reaches(p.levels.P1, 'write'),
    refusedField: 'resources.0',
  },
  {
    handle: 'with a granular key (W1 read, P1 write, F1 delete)',
    key: (w) => ({
      name: 'granular',
      permissions: { mode: 'granular', levels: { [w.resources.W1.id]: 'read', [w.resources.P1.id]: 'write', [w.resources.F1.id]: 'delete' } },
      expiry: 'never',
    }),
    own: { W1: 'read', P1: 'write', F1: 'delete' },
    needs: (p) => reaches(p.levels.W1, 'read') && reaches(p.levels.P1, 'write') && reaches(p.levels.F1, 'delete'),
    refusedField: 'permissions.levels.',
  },
];

/** What the credential reaches: per resource, the lower of its own level and its holder's. */
function effective(person: Person, credential: Credential): Levels {
  const result: Levels = {};
  for (const r of RESOURCES) {
    const level = lower(person.levels[r], credential.own[r]);
    if (level) result[r] = level;
  }
  return result;
}

const KIND: Record<ResourceName, 'workspace' | 'project' | 'folder'> = {
  W1: 'workspace', P1: 'project', F1: 'folder', W2: 'workspace', P2: 'project', F2: 'folder', GW: 'workspace', GP: 'project', GF: 'folder',
};

/** identity.md, for one call: the scope first (403), then the level on the resource of the kind asked for. */
function expected(levels: Levels, need: Level, resource: ResourceName, asKind: 'workspace' | 'project' | 'folder' = KIND[resource]): string {
  if (!reaches(highest(levels), need)) return '403 insufficient_scope';
  if (asKind === KIND[resource] && reaches(levels[resource], need)) return 'allowed';
  return `policy_denied resource-access ${asKind}:${resource}`;
}

const short = (outcome: string) => (outcome.startsWith('policy_denied') ? 'policy_denied' : outcome);

interface Refusal {
  status: number;
  code: string;
}

/** Who calls the admin API: a signed-in browser (session + CSRF), or a script with an API key. */
type Caller = Pick<AdminClient, 'call'>;

function bearerClient(server: TestServer, secret: string): Caller {
  return {
    async call(method, path, body) {
      const response = await fetch(apiUrl(server, path), {
        method,
        headers: { authorization: `Bearer ${secret}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    },
  };
}

describe('permission matrix', { concurrency: 1 }, () => {
  let world: MatrixWorld;
  const users = new Map<string, User>();
  /** person handle → credential handle → secret (token or key) */
  const secrets = new Map<string, Map<string, string>>();
  const issued = new Map<string, { issued: boolean; errors: string[] }>();
  const tokenScopes = new Map<string, string[]>();
  const authorizationEnds = new Map<string, string>();
  /** `${person}|${credential}|${level}|${resource}` → outcome */
  const outcomes = new Map<string, string>();
  const listed = new Map<string, string[]>();

  before(async () => {
    world = await startMatrixWorld();
    const { server } = world;
    const at = Math.floor(Date.now() / 1000);
    await Promise.all(
      PEOPLE.map(async (person, n) => {
        const user =
          person.role === 'owner' && !person.org
            ? server.user
            : await server.addUser(person.email ?? `person${n}@example.com`, undefined, { role: person.role, org: person.org ? world.globex : server.org });
        for (const [resource, role] of person.memberships) await server.store.orgs.setResourceMember(world.resources[resource].id, user.id, role, at);
        users.set(person.handle, user);
      }),
    );
    // Tokens through the real flow (sign-in and consent over HTTP), every scope asked for.
    await Promise.all(
      PEOPLE.map(async (person) => {
        secrets.set(person.handle, new Map());
        if (!highest(person.levels)) {
          // Nothing the application offers is theirs to give: the consent can only end the flow.
          authorizationEnds.set(person.handle, await authorizationEnd(world, users.get(person.handle)!.email));
          return;
        }
        const tokens = await tokenFor(server, APP, { scope: ALL_SCOPES, email: users.get(person.handle)!.email });
        secrets.get(person.handle)!.set(CREDENTIALS[0]!.handle, tokens.access_token);
        tokenScopes.set(person.handle, String(decodeJwt(tokens.access_token).scope ?? '').split(' ').filter(Boolean).sort());
      }),
    );
    for (const person of PEOPLE) {
      for (const credential of CREDENTIALS.slice(1)) {
        const key = await issueOrPlantKey(world, users.get(person.handle)!, credential.key!(world), person.org ? world.globex.id : server.org.id);
        secrets.get(person.handle)!.set(credential.handle, key.secret);
        issued.set(`${person.handle}|${credential.handle}`, { issued: key.issued, errors: key.issued ? [] : key.errors });
      }
    }
    await waitForTools(world, secrets.get(PEOPLE[0]!.handle)!.get(CREDENTIALS[0]!.handle)!);

    // Every call of the matrix, concurrently; the tests below read the answers.
    const tasks: (() => Promise<void>)[] = [];
    for (const person of PEOPLE) {
      for (const credential of CREDENTIALS) {
        const secret = secrets.get(person.handle)!.get(credential.handle);
        if (secret === undefined) continue;
        const cell = `${person.handle}|${credential.handle}`;
        tasks.push(async () => void listed.set(cell, await listTools(world, secret)));
        for (const level of LEVELS) {
          for (const resource of RESOURCES) tasks.push(async () => void outcomes.set(`${cell}|${level}|${resource}`, await callTool(world, secret, level, resource)));
          if (credential.key) continue;
          tasks.push(async () => void outcomes.set(`${cell}|${level}|P1 as folder`, await callTool(world, secret, level, 'P1', 'folder')));
          tasks.push(async () => void outcomes.set(`${cell}|${level}|F1 as workspace`, await callTool(world, secret, level, 'F1', 'workspace')));
        }
      }
    }
    await inParallel(tasks);
  });
  after(() => world?.stop());

  describe('at the gateway', () => {
    for (const person of PEOPLE) {
      for (const credential of CREDENTIALS) {
        const cell = `${person.handle}|${credential.handle}`;
        const levels = effective(person, credential);
        const best = highest(levels);
        const tools = LEVELS.filter((l) => reaches(best, l)).map((l) => TOOL[l]).sort();
        if (!credential.key && !best) {
          it(`${person.handle} gets no token: approving the consent page, which offers nothing, ends the authorization with access_denied`, () => {
            assert.equal(authorizationEnds.get(person.handle), 'access_denied');
          });
          continue;
        }
        describe(`${person.handle}, ${credential.handle}`, () => {
          if (credential.key) {
            const fine = credential.needs!(person);
            it(fine ? 'the service issues the key' : `the service refuses the key (it would exceed its creator: ${credential.refusedField}…); one made before is capped at use`, () => {
              const got = issued.get(cell)!;
              assert.equal(got.issued, fine, JSON.stringify(got));
              if (!fine) assert.ok(got.errors.length > 0 && got.errors.every((path) => path.startsWith(credential.refusedField!)), JSON.stringify(got.errors));
            });
          } else {
            it(`the token carries ${best ? LEVELS.filter((l) => reaches(best, l)).map((l) => `files:${l}`).join(' ') : 'no scope of the application'}`, () => {
              assert.deepEqual(tokenScopes.get(person.handle), LEVELS.filter((l) => reaches(best, l)).map((l) => `files:${l}`).sort());
            });
          }
          it(`tools/list shows ${tools.length ? tools.join(', ') : 'no tool'}`, () => {
            assert.deepEqual(listed.get(cell), tools);
          });
          for (const resource of RESOURCES) {
            const want = LEVELS.map((level) => expected(levels, level, resource));
            const story = LEVELS.map((level, i) => `${level} ${short(want[i]!)}`).join(', ');
            it(`on ${WHERE[resource]}: ${story}`, () => {
              assert.deepEqual(
                LEVELS.map((level) => `${level}: ${outcomes.get(`${cell}|${level}|${resource}`)}`),
                LEVELS.map((level, i) => `${level}: ${want[i]}`),
              );
            });
          }
          if (!credential.key) it('an id of the wrong kind (P1 given as a folder, F1 as a workspace) is refused, naming the kind asked for', () => {
            assert.deepEqual(
              LEVELS.flatMap((level) => [`${level}: ${outcomes.get(`${cell}|${level}|P1 as folder`)}`, `${level}: ${outcomes.get(`${cell}|${level}|F1 as workspace`)}`]),
              LEVELS.flatMap((level) => [`${level}: ${expected(levels, level, 'P1', 'folder')}`, `${level}: ${expected(levels, level, 'F1', 'workspace')}`]),
            );
          });
        });
      }
    }
  });

  describe('through the admin API', () => {
    type Role = 'owner' | 'admin' | 'member' | 'outsider' | 'admin key' | 'plain key';
    const ROLES: Role[] = ['owner', 'admin', 'member', 'outsider', 'admin key', 'plain key'];
    const clients = new Map<Role, Caller>();
    const at = () => Math.floor(Date.now() / 1000);
    const unique = (what: string) => `${what}-${randomBytes(4).toString('hex')}`;
    let fresh = 0;

    before(async () => {
      const { server } = world;
      clients.set('owner', await adminClient(server, server.user.email, false));
      clients.set('admin', await adminClient(server, users.get('an admin')!.email, false));
      clients.set('member', await adminClient(server, users.get('a viewer of W1')!.email, false));
      clients.set('outsider', await adminClient(server, 'olga@example.com', false));
      // The admin's API keys, issued through the admin API: one with the admin permission, one without.
      for (const [role, admin] of [['admin key', true], ['plain key', false]] as const) {
        const made = await clients.get('admin')!.call('POST', '/orgs/acme/keys', { name: role, permissions: { mode: 'simple', level: 'read' }, admin });
        assert.equal(made.status, 201, JSON.stringify(made.body));
        clients.set(role, bearerClient(server, String(made.body.secret)));
      }
    });

    const orgs = () => world.server.store.orgs;
    const acme = () => world.server.org.id;
    /** Someone to act on (no password: they never sign in, and hashing one costs time). */
    const newMember = async (role: OrgRole = 'member') => {
      const user = await world.server.store.users.create({ email: `fresh${++fresh}@example.com` });
      await orgs().addMember(acme(), user.id, role, at());
      return user;
    };
    const newResource = async (kind: 'workspace' | 'project' | 'folder') => {
      const ws = await orgs().createResource({ orgId: acme(), kind: 'workspace', parentId: null, name: unique('ws'), at: at() });
      if (kind === 'workspace') return ws;
      const prj = await orgs().createResource({ orgId: acme(), kind: 'project', parentId: ws.id, name: unique('prj'), at: at() });
      if (kind === 'project') return prj;
      return orgs().createResource({ orgId: acme(), kind: 'folder', parentId: prj.id, name: unique('fld'), at: at() });
    };

    interface Action {
      what: string;
      /** Status when allowed. */
      ok: number;
      /** Make what the action acts on (fresh for every caller). */
      prepare?: () => Promise<Record<string, string>>;
      call: (client: Caller, t: Record<string, string>) => Promise<ApiAnswer>;
      /** Refused for these callers although they may do the rest. */
      refusedFor?: Partial<Record<Role, Refusal>>;
      /** Did it happen? (unsafe actions only: a refused call must change nothing) */
      happened?: (t: Record<string, string>) => Promise<boolean>;
    }

    const PARENT = { workspace: null, project: 'workspace', folder: 'project' } as const;
    const KINDS = ['workspace', 'project', 'folder'] as const;

    const ACTIONS: Action[] = [
      { what: 'read the organization', ok: 200, call: (c) => c.call('GET', '/orgs/acme') },
      {
        what: 'update the settings',
        ok: 200,
        prepare: async () => ({ ttl: String(600 + ++fresh) }),
        call: (c, t) => c.call('PATCH', '/orgs/acme', { settings: { accessTokenTtl: Number(t.ttl) } }),
        happened: async (t) => (await orgs().get(acme()))?.settings.accessTokenTtl === Number(t.ttl),
      },
      { what: 'list the members', ok: 200, call: (c) => c.call('GET', '/orgs/acme/members') },
      {
        what: "change a member's role",
        ok: 200,
        prepare: async () => ({ user: (await newMember()).id }),
        call: (c, t) => c.call('PATCH', `/orgs/acme/members/${t.user}`, { role: 'admin' }),
        happened: async (t) => (await orgs().member(acme(), t.user!))?.role === 'admin',
      },
      {
        what: 'remove a member',
        ok: 200,
        prepare: async () => ({ user: (await newMember()).id }),
        call: (c, t) => c.call('DELETE', `/orgs/acme/members/${t.user}`),
        happened: async (t) => (await orgs().member(acme(), t.user!)) === undefined,
      },
      { what: 'list the invitations', ok: 200, call: (c) => c.call('GET', '/orgs/acme/invitations') },
      {
        what: 'invite someone',
        ok: 201,
        prepare: async () => ({ email: `${unique('invitee')}@example.com` }),
        call: (c, t) => c.call('POST', '/orgs/acme/invitations', { email: t.email, role: 'member' }),
        happened: async (t) => (await world.server.store.invitations.list(acme())).some((i) => i.email === t.email),
      },
      {
        what: 'revoke an invitation',
        ok: 204,
        prepare: async () => {
          const made = await clients.get('owner')!.call('POST', '/orgs/acme/invitations', { email: `${unique('invitee')}@example.com`, role: 'member' });
          assert.equal(made.status, 201, JSON.stringify(made.body));
          return { id: (made.body.invitation as { id: string }).id };
        },
        call: (c, t) => c.call('DELETE', `/orgs/acme/invitations/${t.id}`),
        happened: async (t) => (await world.server.store.invitations.list(acme())).some((i) => i.id === t.id && i.revokedAt !== null),
      },
      { what: 'list the resources', ok: 200, call: (c) => c.call('GET', '/orgs/acme/resources') },
      ...KINDS.flatMap((kind): Action[] => [
        {
          what: `create a ${kind}`,
          ok: 201,
          prepare: async () => ({ name: unique(kind), parent: PARENT[kind] ? (await newResource(PARENT[kind])).id : '' }),
          call: (c, t) => c.call('POST', '/orgs/acme/resources', { kind, name: t.name, ...(t.parent ? { parentId: t.parent } : {}) }),
          happened: async (t) => (await orgs().resources(acme())).some((r) => r.name === t.name),
        },
        {
          what: `rename a ${kind}`,
          ok: 200,
          prepare: async () => ({ id: (await newResource(kind)).id, name: unique('renamed') }),
          call: (c, t) => c.call('PATCH', `/orgs/acme/resources/${t.id}`, { name: t.name }),
          happened: async (t) => (await orgs().resource(t.id!))?.name === t.name,
        },
        {
          what: `delete a ${kind}`,
          ok: 204,
          prepare: async () => ({ id: (await newResource(kind)).id }),
          call: (c, t) => c.call('DELETE', `/orgs/acme/resources/${t.id}`),
          happened: async (t) => (await orgs().resource(t.id!)) === undefined,
        },
      ]),
      {
        what: "list a project's members",
        ok: 200,
        prepare: async () => ({ id: (await newResource('project')).id }),
        call: (c, t) => c.call('GET', `/orgs/acme/resources/${t.id}/members`),
      },
      {
        what: 'set a resource membership',
        ok: 200,
        prepare: async () => ({ id: (await newResource('project')).id, user: (await newMember()).id }),
        call: (c, t) => c.call('PUT', `/orgs/acme/resources/${t.id}/members/${t.user}`, { role: 'editor' }),
        happened: async (t) => (await orgs().resourceMembers(acme(), t.user!)).some((m) => m.resourceId === t.id && m.role === 'editor'),
      },
      {
        what: 'remove a resource membership',
        ok: 204,
        prepare: async () => {
          const [resource, user] = [await newResource('folder'), await newMember()];
          await orgs().setResourceMember(resource.id, user.id, 'viewer', at());
          return { id: resource.id, user: user.id };
        },
        call: (c, t) => c.call('DELETE', `/orgs/acme/resources/${t.id}/members/${t.user}`),
        happened: async (t) => !(await orgs().resourceMembers(acme(), t.user!)).some((m) => m.resourceId === t.id),
      },
      { what: 'list the grants', ok: 200, call: (c) => c.call('GET', '/orgs/acme/grants') },
      {
        what: 'revoke a grant',
        ok: 204,
        prepare: async () => {
          // A real grant: a fresh viewer signs in and consents through the pages.
          const user = await world.server.addUser(`${unique('grantor')}@example.com`, undefined, { role: 'member' });
          await orgs().setResourceMember((await newResource('workspace')).id, user.id, 'viewer', at());
          await tokenFor(world.server, APP, { scope: 'files:read', email: user.email });
          const [context] = await world.server.store.grantContexts.list({ userId: user.id });
          assert.ok(context, 'the sign-in left a grant');
          return { id: context.grantId };
        },
        call: (c, t) => c.call('DELETE', `/orgs/acme/grants/${t.id}`),
        happened: async (t) => world.server.store.revocations.isRevoked('grant', t.id!),
      },
      { what: 'list the keys', ok: 200, call: (c) => c.call('GET', '/orgs/acme/keys') },
      {
        what: 'create an API key',
        ok: 201,
        prepare: async () => ({ name: unique('key') }),
        call: (c, t) => c.call('POST', '/orgs/acme/keys', { name: t.name, permissions: { mode: 'simple', level: 'read' } }),
        // Keys never mint keys (they would outlive the revocation of the key that made them).
        refusedFor: { 'admin key': { status: 403, code: 'forbidden' } },
        happened: async (t) => (await world.server.store.apiKeys.list({ orgId: acme() })).some((k) => k.name === t.name),
      },
      {
        what: 'create an admin API key',
        ok: 201,
        prepare: async () => ({ name: unique('admin-key') }),
        call: (c, t) => c.call('POST', '/orgs/acme/keys', { name: t.name, permissions: { mode: 'simple', level: 'read' }, admin: true }),
        // Keys never mint keys, admin keys least of all: only a signed-in person may.
        refusedFor: { 'admin key': { status: 403, code: 'forbidden' } },
        happened: async (t) => (await world.server.store.apiKeys.list({ orgId: acme() })).some((k) => k.name === t.name),
      },
      {
        what: "revoke someone's API key",
        ok: 200,
        prepare: async () => {
          const key = await issueOrPlantKey(world, users.get('a viewer of W1')!, { name: unique('victim'), permissions: { mode: 'simple', level: 'read' } });
          assert.ok(key.issued);
          return { id: key.id };
        },
        call: (c, t) => c.call('DELETE', `/orgs/acme/keys/${t.id}`),
        happened: async (t) => (await world.server.store.apiKeys.get(t.id!))?.revokedAt !== null,
      },
    ];

    const REFUSAL: Record<Role, Refusal | undefined> = {
      owner: undefined,
      admin: undefined,
      member: { status: 403, code: 'forbidden' },
      outsider: { status: 404, code: 'not_found' },
      'admin key': undefined,
      'plain key': { status: 403, code: 'forbidden' },
    };
    const WHO: Record<Role, string> = {
      owner: 'an owner',
      admin: 'an admin',
      member: 'a plain member',
      outsider: 'the owner of another organization',
      'admin key': "an admin's API key with the admin permission",
      'plain key': "an admin's API key without it",
    };

    for (const action of ACTIONS) {
      for (const role of ROLES) {
        const refusal = action.refusedFor?.[role] ?? REFUSAL[role];
        it(`${WHO[role]}: ${action.what} → ${refusal ? `${refusal.status} ${refusal.code}${action.happened ? ', nothing changes' : ''}` : action.ok}`, async () => {
          const target = (await action.prepare?.()) ?? {};
          const answer = await action.call(clients.get(role)!, target);
          if (refusal) {
            assert.equal(answer.status, refusal.status, JSON.stringify(answer.body));
            assert.equal(answer.body.error, refusal.code);
            if (action.happened) assert.equal(await action.happened(target), false, 'a refused call changed something');
          } else {
            assert.equal(answer.status, action.ok, JSON.stringify(answer.body));
            if (action.happened) assert.equal(await action.happened(target), true);
          }
        });
      }
    }

    it("an owner naming another organization's people, resources, invitations, keys or grants under their own org: 404 not_found (400 for a parent), nothing changes", async () => {
      const { server, globex, resources } = world;
      const olga = (await server.store.users.findByEmail('olga@example.com'))!;
      const olgaClient = clients.get('outsider')!;
      const invitation = await olgaClient.call('POST', '/orgs/globex/invitations', { email: `${unique('theirs')}@example.com`, role: 'member' });
      assert.equal(invitation.status, 201, JSON.stringify(invitation.body));
      const invitationId = (invitation.body.invitation as { id: string }).id;
      const key = await olgaClient.call('POST', '/orgs/globex/keys', { name: 'olga', permissions: { mode: 'simple', level: 'read' } });
      assert.equal(key.status, 201, JSON.stringify(key.body));
      const keyId = (key.body.key as { id: string }).id;
      // Olga's real grant, for Globex (her only org).
      await tokenFor(server, APP, { scope: 'files:read', email: olga.email });
      const [grant] = await server.store.grantContexts.list({ userId: olga.id });
      assert.equal(grant?.orgId, globex.id);

      const owner = clients.get('owner')!;
      const answers = {
        'change her role': await owner.call('PATCH', `/orgs/acme/members/${olga.id}`, { role: 'member' }),
        'remove her': await owner.call('DELETE', `/orgs/acme/members/${olga.id}`),
        'give her a role on W1': await owner.call('PUT', `/orgs/acme/resources/${resources.W1.id}/members/${olga.id}`, { role: 'viewer' }),
        'rename their workspace': await owner.call('PATCH', `/orgs/acme/resources/${resources.GW.id}`, { name: 'Ours now' }),
        'delete their project': await owner.call('DELETE', `/orgs/acme/resources/${resources.GP.id}`),
        "list their folder's members": await owner.call('GET', `/orgs/acme/resources/${resources.GF.id}/members`),
        'give her a role on their workspace': await owner.call('PUT', `/orgs/acme/resources/${resources.GW.id}/members/${olga.id}`, { role: 'manager' }),
        'revoke their invitation': await owner.call('DELETE', `/orgs/acme/invitations/${invitationId}`),
        'revoke their key': await owner.call('DELETE', `/orgs/acme/keys/${keyId}`),
        'revoke their grant': await owner.call('DELETE', `/orgs/acme/grants/${grant.grantId}`),
        'create a project in their workspace': await owner.call('POST', '/orgs/acme/resources', { kind: 'project', parentId: resources.GW.id, name: 'Mole' }),
      };
      const expected = Object.fromEntries(Object.keys(answers).map((what) => [what, what.startsWith('create') ? '400 invalid_request' : '404 not_found']));
      assert.deepEqual(Object.fromEntries(Object.entries(answers).map(([what, a]) => [what, `${a.status} ${a.body.error}`])), expected);

      assert.equal((await server.store.orgs.member(globex.id, olga.id))?.role, 'owner');
      assert.equal((await server.store.orgs.resource(resources.GW.id))?.name, 'Globex W');
      assert.ok(await server.store.orgs.resource(resources.GP.id));
      assert.deepEqual(await server.store.orgs.resourceMembers(globex.id, olga.id), []);
      assert.equal((await server.store.invitations.get(invitationId))?.revokedAt, null);
      assert.equal((await server.store.apiKeys.get(keyId))?.revokedAt, null);
      assert.equal(await server.store.revocations.isRevoked('grant', grant.grantId), false);
      assert.equal((await server.store.orgs.resources(globex.id)).length, 3);
    });

    describe('owners are touched by owners only, and an organization keeps one', () => {
      const roleOf = async (user: User) => (await orgs().member(acme(), user.id))?.role;

      it('an admin may not make an owner, demote or remove one, or invite one: 403 forbidden, nothing changes', async () => {
        const admin = clients.get('admin')!;
        const someone = await newMember();
        const owner = await newMember('owner');
        const answers = [
          await admin.call('PATCH', `/orgs/acme/members/${someone.id}`, { role: 'owner' }),
          await admin.call('PATCH', `/orgs/acme/members/${owner.id}`, { role: 'member' }),
          await admin.call('DELETE', `/orgs/acme/members/${owner.id}`),
          await admin.call('POST', '/orgs/acme/invitations', { email: `${unique('boss')}@example.com`, role: 'owner' }),
        ];
        assert.deepEqual(answers.map((a) => `${a.status} ${a.body.error}`), Array(4).fill('403 forbidden'));
        assert.equal(await roleOf(someone), 'member');
        assert.equal(await roleOf(owner), 'owner');
        // Tidy up: the second owner would make the last-owner test below meaningless.
        assert.equal((await clients.get('owner')!.call('DELETE', `/orgs/acme/members/${owner.id}`)).status, 200);
      });

      it('the last owner cannot be demoted or removed (409 last_owner); with a second owner, either may go', async () => {
        const ownerClient = clients.get('owner')!;
        const ada = world.server.user;
        assert.equal((await ownerClient.call('PATCH', `/orgs/acme/members/${ada.id}`, { role: 'admin' })).body.error, 'last_owner');
        assert.equal((await ownerClient.call('DELETE', `/orgs/acme/members/${ada.id}`)).body.error, 'last_owner');
        assert.equal(await roleOf(ada), 'owner');

        const bea = await world.server.addUser('bea@example.com', undefined, { role: 'member' });
        assert.equal((await ownerClient.call('PATCH', `/orgs/acme/members/${bea.id}`, { role: 'owner' })).status, 200);
        const beaClient = await adminClient(world.server, bea.email, false);
        // Bea, now an owner, demotes ada: allowed, there is another owner. Ada is then an admin.
        assert.equal((await beaClient.call('PATCH', `/orgs/acme/members/${ada.id}`, { role: 'admin' })).status, 200);
        assert.equal(await roleOf(ada), 'admin');
        // Bea is now the last owner: she cannot leave; ada, an admin, cannot touch her.
        const last = await beaClient.call('DELETE', `/orgs/acme/members/${bea.id}`);
        assert.equal(last.status, 409, JSON.stringify(last.body));
        assert.equal(last.body.error, 'last_owner');
        assert.equal((await ownerClient.call('PATCH', `/orgs/acme/members/${bea.id}`, { role: 'member' })).body.error, 'forbidden');
        // Put ada back as the owner and bea out (ada was the last owner's equal again first).
        assert.equal((await beaClient.call('PATCH', `/orgs/acme/members/${ada.id}`, { role: 'owner' })).status, 200);
        assert.equal((await ownerClient.call('DELETE', `/orgs/acme/members/${bea.id}`)).status, 200);
        assert.equal(await roleOf(ada), 'owner');
        assert.equal(await roleOf(bea), undefined);
      });
    });
  });
});
