/**
 * `npm test`: every test file under test/, with Node's own runner.
 *
 * - NODE_EXTRA_CA_CERTS adds the committed test CA (test/fixtures/tls) so tests can serve
 *   metadata documents and JWKS over https from loopback. Node reads it once at start, so it is
 *   set here for the test processes; a bundle already named in the environment is kept (the two
 *   are concatenated into a temporary file).
 * - PostgreSQL tests run when PORTCULLIS_TEST_DATABASE_URL is set (.ci/run sets it); browser tests
 *   run when Chromium is installed (.ci/run installs it and sets PORTCULLIS_TEST_CHROMIUM).
 * - Extra arguments are passed on: `npm test -- test/e2e/oauth4webapi.test.ts`.
 * - Skipped tests are listed at the end (scripts/reporters/skipped.ts). With CI=true a skipped test
 *   fails the run: in CI every prerequisite (Chromium, PostgreSQL, Redis) must be there, and a test
 *   that could not run is a failure, not a pass. Elsewhere a test whose prerequisite is missing is
 *   registered with `{ skip: 'why' }` (test/helpers/prerequisites.ts), so the count shows it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const files = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));

const testCa = readFileSync(join(root, 'test/fixtures/tls/ca.pem'), 'utf8');
const existing = process.env.NODE_EXTRA_CA_CERTS;
let bundle = testCa;
if (existing) {
  try {
    bundle = `${readFileSync(existing, 'utf8')}\n${testCa}`;
  } catch {
    // An unreadable bundle would only make Node warn; the test CA alone is what the tests need.
  }
}
const dir = mkdtempSync(join(tmpdir(), 'portcullis-ca-'));
const caFile = join(dir, 'ca-bundle.pem');
writeFileSync(caFile, bundle);

const skippedFile = join(dir, 'skipped.txt');
const reporters = ['--test-reporter=spec', '--test-reporter-destination=stdout', `--test-reporter=${join(root, 'scripts/reporters/skipped.ts')}`, `--test-reporter-destination=${skippedFile}`];
const child = spawn(
  process.execPath,
  ['--test', '--test-concurrency=4', '--test-timeout=180000', ...reporters, ...flags, ...(files.length ? files : ['test/**/*.test.ts'])],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile } },
);
child.on('exit', (code, signal) => {
  let skipped: string[] = [];
  try {
    skipped = readFileSync(skippedFile, 'utf8').split('\n').filter(Boolean);
  } catch {
    // No file: the run ended before the reporter wrote anything.
  }
  rmSync(dir, { recursive: true, force: true });
  let exit = code ?? (signal ? 1 : 0);
  if (skipped.length) {
    const ci = process.env.CI === 'true';
    console.log(`\n${skipped.length} test(s) skipped${ci ? ' — CI=true: a skipped test fails the run' : ''}:`);
    for (const line of skipped) console.log(`  - ${line}`);
    if (ci) exit = exit || 1;
  }
  process.exit(exit);
});
