/** `portcullis admin …`: account administration from the shell (for when no one can sign in yet). */
import { isPortcullisError } from '../core/errors.ts';
import { ORG_ROLES } from '../identity/people.ts';
import { createUserWithOrganization, DEFAULT_ORG, isEmailAddress } from '../identity/new-users.ts';
import { checkNewPassword, hashNewPassword, MIN_PASSWORD_LENGTH } from '../identity/passwords.ts';
import { CONFIG_HELP, commandFailed, usageError, parseCommand } from './args.ts';
import { loadCliConfig, withStore, type CliIo } from './context.ts';
import { promptHidden, readPasswordFromStdin } from './password-input.ts';
import type { OrgRole } from '../core/roles.ts';

const createUserSpec = {
  name: 'admin create-user',
  help: `Usage: portcullis admin create-user --email EMAIL [--name NAME] [--org SLUG] [--role ROLE] [--admin] [--password-stdin]

Creates a user who can sign in with a password, as a member of one organization: --org names an
existing one (it is never created here); without --org, the Default organization (slug
"${DEFAULT_ORG.slug}"), created on first use as on first-run setup. The role is owner, admin or
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

export async function createUser(argv: string[], io: CliIo): Promise<number> {
  const stdin = io.stdin ?? process.stdin;
  const args = parseCommand(createUserSpec, argv, io.stdout);
  if (!args) return 0;
  const { values } = args;
  const email = values.email?.trim();
  if (!email) throw usageError('missing --email', createUserSpec.name);
  if (!isEmailAddress(email) || email.length > 320) throw usageError(`--email is not an e-mail address: ${email}`, createUserSpec.name);
  const name = values.name?.trim() || null;
  const role = values.role;
  if (role !== undefined && !ORG_ROLES.includes(role as OrgRole)) throw usageError(`--role must be owner, admin or member, not ${role}`, createUserSpec.name);
  const orgSlug = values.org?.trim();
  if (orgSlug !== undefined && !/^[a-z0-9][a-z0-9-]{0,62}$/.test(orgSlug)) throw usageError(`--org is not an organization slug: ${orgSlug}`, createUserSpec.name);
  if (!values['password-stdin'] && !stdin.isTTY) {
    throw usageError('no password: give --password-stdin, or run on a terminal to be asked', createUserSpec.name);
  }
  const config = loadCliConfig(values.config);

  let password: string;
  if (values['password-stdin']) {
    password = await readPasswordFromStdin(stdin);
  } else {
    password = await promptHidden(`Password for ${email}: `, stdin, io.stderr);
    checkPassword(password);
    if ((await promptHidden('Repeat the password: ', stdin, io.stderr)) !== password) throw commandFailed('invalid_request', 'the two passwords differ');
  }
  checkPassword(password);

  return withStore(config, io, async (store) => {
    const created = await createUserWithOrganization(
      { store, now: () => Math.floor(Date.now() / 1000) },
      { email, name, passwordHash: await hashNewPassword(password), isAdmin: Boolean(values.admin), orgSlug, role: role as OrgRole | undefined },
    ).catch((err: unknown) => {
      if (!isPortcullisError(err)) throw err;
      if (err.code === 'not_found') throw commandFailed('not_found', `no organization ${orgSlug} (org_not_found): organizations are created in the console or the admin API`);
      // Another account has this address (any case), perhaps created by another process just now.
      if (err.code === 'conflict') throw commandFailed('conflict', `a user with the e-mail address ${email} already exists`);
      throw err;
    });
    const { user, org, role: orgRole } = created;
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ id: user.id, email: user.email, name: user.name, admin: user.isAdmin, org: org.slug, role: orgRole })}\n`);
    } else {
      io.stdout.write(`Created user ${user.email} (id ${user.id})${user.isAdmin ? ', server administrator' : ''}, ${orgRole} of ${org.slug}\n`);
    }
    return 0;
  });
}

/** The password policy (identity/passwords.ts), before the store is opened: a refusal is one line, exit 1. */
function checkPassword(password: string): void {
  if (password.length === 0) throw commandFailed('invalid_request', 'no password given');
  checkNewPassword(password);
}
