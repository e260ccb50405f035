/**
 * Build the guard SDK for the published package (`npm run build:guard`; `prepack` runs it).
 *
 * The repository runs its TypeScript directly (Node 24 type stripping), but Node refuses to strip
 * types from files under node_modules — an application that installs `portcullis` from npm could
 * not import the guard's .ts sources. So the package also carries dist/: the guard's entry points
 * and everything they import, compiled by tsc (tsconfig.build.json) to .js with `.ts` import
 * specifiers rewritten to `.js` (rewriteRelativeImportExtensions), plus .d.ts declarations.
 * package.json `exports` points `portcullis/guard`, `/node`, `/express`, `/hono` and `/mcp` there.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
rmSync(join(root, 'dist'), { recursive: true, force: true });
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
