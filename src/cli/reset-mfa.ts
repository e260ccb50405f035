/**
 * `portcullis admin reset-mfa --email EMAIL`: a person lost their authenticator and their recovery
 * codes — remove their second factors and end their sessions (identity/mfa-reset.ts), from the
 * server's machine, for when no administrator can sign in either.
 */
import { isEmailAddress } from '../identity/new-users.ts';
import { resetSecondFactors } from '../identity/mfa-reset.ts';
import { CONFIG_HELP, commandFailed, parseCommand, usageError } from './args.ts';
import { cliActor, cliAudit, loadCliConfig, withStore, type CliIo } from './context.ts';

const spec = {
  name: 'admin reset-mfa',
  help: `Usage: portcullis admin reset-mfa --email EMAIL [--json]

Removes a person's second factors — the TOTP authenticator, its recovery codes and their passkeys —
and ends every sign-in session of theirs. Their grants and API keys stay. At the next sign-in they
use their password (or their company's single sign-on); an organization that requires MFA leads
them through enrolment again. The reset is recorded in the audit log.

Options:
      --email EMAIL       the person's e-mail address
      --json              print what was removed as JSON
${CONFIG_HELP}
  -h, --help              show this help`,
  options: {
    email: { type: 'string' },
    json: { type: 'boolean' },
  },
} as const;

export async function resetMfa(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommand(spec, argv, io.stdout);
  if (!args) return 0;
  const email = args.values.email?.trim();
  if (!email) throw usageError('missing --email', spec.name);
  if (!isEmailAddress(email)) throw usageError(`--email is not an e-mail address: ${email}`, spec.name);
  const config = loadCliConfig(args.values.config);
  return withStore(config, io, async (store) => {
    const user = await store.users.findByEmail(email);
    if (!user || user.deletedAt !== null) throw commandFailed('not_found', `no user with the e-mail address ${email} (user_not_found)`);
    const reset = await resetSecondFactors({ store }, user.id);
    await cliAudit(store).write({ kind: 'admin.user.mfa_reset', actor: cliActor(), subject: user.id, details: { ...reset } });
    if (args.values.json) io.stdout.write(`${JSON.stringify({ id: user.id, email: user.email, ...reset })}\n`);
    else io.stdout.write(`Reset the second factors of ${user.email}: ${reset.totp ? 'authenticator' : 'no authenticator'}, ${reset.recoveryCodes} recovery codes, ${reset.passkeys} passkeys removed; ${reset.sessions} sessions ended\n`);
    return 0;
  });
}
