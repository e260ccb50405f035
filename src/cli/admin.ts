/** `portcullis admin …`: account administration from the shell (for when no one can sign in yet). */
import type { Store } from '../store/store.ts';
import type { Org } from '../store/orgs.ts';
import { hashPassword } from '../core/crypto.ts';
import { isPortcullisError } from '../core/errors.ts';
import { DEFAULT_ORG_SLUG, MIN_PASSWORD_LENGTH } from '../console/pages.ts';
import { CONFIG_HELP, CommandError, UsageError, parseCommand } from './args.ts';
import { loadCliConfig, withStore, type CliIo } from './context.ts';
import { promptHidden, readPasswordFromStdin } from './password-input.ts';
import type { OrgRole } from '../core/roles.ts';

const MAX_PASSWORD_LENGTH = 1024;

const createUserSpec = {
  name: 'admin create-user',
  help: `Usage: portcullis admin create-user --email EMAIL [--name NAME] [--org SLUG] [--role ROLE] [--admin] [--password-stdin]

Creates a user who can sign in with a password, as a member of one organization: --org names an
existing one (it is never created here); without --org, the Default organization (slug
"${DEFAULT_ORG_SLUG}"), created on first use as on first-run setup. The role is owner, admin or
member; default: owner when the organization has no owner yet, otherwise member. The password is read from standard input with
--password-stdin (one line; a trailing newline is dropped), otherwise asked for twice on the
terminal. It must have at least ${MIN_PASSWORD_LENGTH} characters. Passwords are stored as Argon2id hashes.

Options:
      --email EMAIL       the user's e-mail address (unique, case-insensitive)
      --name NAME         display name
      --org SLUG          the organization to join (must exist)
      --role ROLE         owner, admin or member
      --admin             make the user a server administrator
      --password-stdin    read the password from standard input
      --json              print the new user as JSON
${CONFIG_HELP}
  -h, --help              show this help`,
  options: {
    email: { type: 'string' },
    name: { type: 'string' },
    org: { type: 'string' },
    role: { type: 'string' },
    admin: { type: 'boolean' },
    'password-stdin': { type: 'boolean' },
    json: { type: 'boolean' },
  },
} as const;

const EMAIL = /^[^\s@]+@[^\s@]+$/;

export async function createUser(argv: string[], io: CliIo): Promise<number> {
  const stdin = io.stdin ?? process.stdin;
  const args = parseCommand(createUserSpec, argv, io.stdout);
  if (!args) return 0;
  const { values } = args;
  const email = values.email?.trim();
  if (!email) throw new UsageError('missing --email', createUserSpec.name);
  if (!EMAIL.test(email) || email.length > 320) throw new UsageError(`--email is not an e-mail address: ${email}`, createUserSpec.name);
  const name = values.name?.trim() || null;
  const role = values.role;
  if (role !== undefined && !ORG_ROLES.includes(role as OrgRole)) throw new UsageError(`--role must be owner, admin or member, not ${role}`, createUserSpec.name);
  const orgSlug = values.org?.trim();
  if (orgSlug !== undefined && !/^[a-z0-9][a-z0-9-]{0,62}$/.test(orgSlug)) throw new UsageError(`--org is not an organization slug: ${orgSlug}`, createUserSpec.name);
  if (!values['password-stdin'] && !stdin.isTTY) {
    throw new UsageError('no password: give --password-stdin, or run on a terminal to be asked', createUserSpec.name);
  }
  const config = loadCliConfig(values.config);

  let password: string;
  if (values['password-stdin']) {
    password = await readPasswordFromStdin(stdin);
  } else {
    password = await promptHidden(`Password for ${email}: `, stdin, io.stderr);
    checkPassword(password);
    if ((await promptHidden('Repeat the password: ', stdin, io.stderr)) !== password) throw new CommandError('the two passwords differ');
  }
  checkPassword(password);

  return withStore(config, io, async (store) => {
    if (await store.users.findByEmail(email)) throw new CommandError(`a user with the e-mail address ${email} already exists`);
    // Before the user exists: a wrong --org must leave nothing behind.
    const org = await organizationFor(store, orgSlug);
    let user;
    try {
      user = await store.users.create({ email, name, passwordHash: await hashPassword(password), isAdmin: Boolean(values.admin) });
    } catch (err) {
      // Another process may have created it between our check and the insert.
      if (isPortcullisError(err) && err.code === 'conflict') throw new CommandError(`a user with the e-mail address ${email} already exists`);
      throw err;
    }
    const hasOwner = (await store.orgs.members(org.id)).some((m) => m.role === 'owner');
    const orgRole: OrgRole = (role as OrgRole | undefined) ?? (hasOwner ? 'member' : 'owner');
    await store.orgs.addMember(org.id, user.id, orgRole, Math.floor(Date.now() / 1000));
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ id: user.id, email: user.email, name: user.name, admin: user.isAdmin, org: org.slug, role: orgRole })}\n`);
    } else {
      io.stdout.write(`Created user ${user.email} (id ${user.id})${user.isAdmin ? ', server administrator' : ''}, ${orgRole} of ${org.slug}\n`);
    }
    return 0;
  });
}

const ORG_ROLES: readonly OrgRole[] = ['owner', 'admin', 'member'];

/**
 * The organization named by --org (must exist: exit 1, `org_not_found`), or the Default one,
 * created when missing (the same organization first-run setup creates).
 */
async function organizationFor(store: Store, slug: string | undefined): Promise<Org> {
  if (slug !== undefined) {
    const org = await store.orgs.bySlug(slug);
    if (!org) throw new CommandError(`no organization ${slug} (org_not_found): organizations are created in the console or the admin API`);
    return org;
  }
  const existing = await store.orgs.bySlug(DEFAULT_ORG_SLUG);
  if (existing) return existing;
  try {
    return await store.orgs.create({ slug: DEFAULT_ORG_SLUG, name: 'Default' });
  } catch (err) {
    // Created by another process meanwhile.
    const raced = await store.orgs.bySlug(DEFAULT_ORG_SLUG);
    if (raced) return raced;
    throw err;
  }
}

function checkPassword(password: string): void {
  if (password.length === 0) throw new CommandError('no password given');
  if (password.length < MIN_PASSWORD_LENGTH) throw new CommandError(`the password is too short: use at least ${MIN_PASSWORD_LENGTH} characters`);
  if (password.length > MAX_PASSWORD_LENGTH) throw new CommandError(`the password is too long: at most ${MAX_PASSWORD_LENGTH} characters`);
}
