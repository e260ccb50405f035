/**
 * The password policy — one rule for every way a password is set: first-run setup, `portcullis
 * admin create-user`, creating an account to accept an invitation, changing yours, and resetting
 * it by link. Length only, as NIST SP 800-63B §5.1.1.2 advises: no composition rules, a minimum
 * above its 8, and a maximum that keeps the Argon2id work for one request bounded.
 *
 * The only way to a `NewPasswordHash` is `hashNewPassword`, so a service that takes one cannot
 * store a password the policy has not seen.
 */
import { hashPassword } from '../core/crypto.ts';
import { PortcullisError } from '../core/errors.ts';

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 1024;

/** An Argon2id hash of a password that passed the policy. */
export type NewPasswordHash = string & { readonly policyChecked: true };

/** What is wrong with `password` as a new password, or undefined when the policy accepts it. */
function passwordProblem(password: string): { message: string; field: string } | undefined {
  if (password.length < MIN_PASSWORD_LENGTH) return { message: 'the password is too short', field: `use at least ${MIN_PASSWORD_LENGTH} characters` };
  if (password.length > MAX_PASSWORD_LENGTH) return { message: 'the password is too long', field: `use at most ${MAX_PASSWORD_LENGTH} characters` };
  return undefined;
}

/** 400 `invalid_request`, naming the `password` field, when the policy refuses `password`. */
export function checkNewPassword(password: string): void {
  const problem = passwordProblem(password);
  if (!problem) return;
  throw new PortcullisError('invalid_request', `${problem.message}: ${problem.field}`, {
    rule: 'password-policy',
    detail: { errors: [{ path: 'password', message: problem.field }] },
  });
}

/** The policy, then the Argon2id hash to store. */
export async function hashNewPassword(password: string): Promise<NewPasswordHash> {
  checkNewPassword(password);
  return (await hashPassword(password)) as NewPasswordHash;
}
