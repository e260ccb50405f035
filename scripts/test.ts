/**
 * `npm test`: every test file under test/, with Node's own runner.
 *
 * - NODE_EXTRA_CA_CERTS points at the committed test CA (test/fixtures/tls), so tests can serve
 *   metadata documents and JWKS over https from loopback. It must be set before Node starts.
 * - PostgreSQL tests run when PORTCULLIS_TEST_DATABASE_URL is set (.ci/run sets it); browser tests
 *   run when Chromium is installed (.ci/run installs it and sets PORTCULLIS_TEST_CHROMIUM).
 * - Extra arguments are passed on: `npm test -- test/e2e/oauth4webapi.test.ts`.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const files = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));

const child = spawn(
  process.execPath,
  ['--test', '--test-concurrency=4', '--test-timeout=180000', ...flags, ...(files.length ? files : ['test/**/*.test.ts'])],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS ?? join(root, 'test/fixtures/tls/ca.pem') },
  },
);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
