/**
 * The house rule for tests whose prerequisite (Chromium, PostgreSQL, Redis, server binaries) is
 * missing: with CI=true every test runs, so a missing prerequisite fails the run; elsewhere the
 * test is registered with `{ skip: 'why' }`, so the count shows it — never silently left out.
 */

/** `skip` for node:test: the reason outside CI when `missing` names one; in CI, never. */
export function skipUnless(missing: string | undefined): string | false {
  if (!missing || process.env.CI === 'true') return false;
  return missing;
}
