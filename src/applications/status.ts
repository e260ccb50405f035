/**
 * Where an application stands, computed from the store alone so every process (and the CLI)
 * agrees:
 *
 *   not_verified  no passing self-test of the CURRENT definition (never tested, the last test
 *                 failed, or the definition changed since it passed)
 *   needs_review  verified, but tools are waiting for an administrator's approval
 *   live          verified, and every tool the MCP server lists is approved
 *
 * The chain is ordered: an application that was never verified says so before anything else,
 * because until then nobody knows that its URL is protected at all.
 */
import type { Store } from '../store/store.ts';
import type { SelfTestRecord } from '../store/self-tests.ts';
import type { ToolRecord } from '../store/tools.ts';
import { createHash } from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.ts';
import { parseDefinition } from './registry.ts';
import { resolveApplication } from '../core/application.ts';
import { runSelfTest, type SelfTestCheck, type SelfTestOptions, type SelfTestResult } from './self-test.ts';

export type ApplicationStatus = 'not_verified' | 'needs_review' | 'live';

export interface StatusReport {
  slug: string;
  status: ApplicationStatus;
  /** One sentence saying why. */
  reason: string;
  selfTest: {
    ranAt: number;
    passed: boolean;
    url: string;
    /** False when the definition changed after this test ran. */
    current: boolean;
    checks: SelfTestCheck[];
  } | null;
  tools: { total: number; approved: number; needsReview: string[] };
}

/** Hash of a stored definition (JSON text), independent of key order. */
export function definitionHash(definitionJson: string): string {
  let canonical: string;
  try {
    canonical = canonicalJson(JSON.parse(definitionJson));
  } catch {
    canonical = definitionJson;
  }
  return createHash('sha256').update(canonical).digest('base64url');
}

export function statusOf(slug: string, currentHash: string, tools: readonly ToolRecord[], selfTest: SelfTestRecord | undefined): StatusReport {
  const needsReview = tools.filter((t) => t.status === 'needs_review').map((t) => t.name);
  const current = selfTest !== undefined && selfTest.definitionHash === currentHash;
  let checks: SelfTestCheck[] = [];
  if (selfTest) {
    try {
      checks = JSON.parse(selfTest.checks) as SelfTestCheck[];
    } catch {
      checks = [];
    }
  }
  const report = (status: ApplicationStatus, reason: string): StatusReport => ({
    slug,
    status,
    reason,
    selfTest: selfTest ? { ranAt: selfTest.ranAt, passed: selfTest.passed, url: selfTest.url, current, checks } : null,
    tools: { total: tools.length, approved: tools.length - needsReview.length, needsReview },
  });
  if (!selfTest) return report('not_verified', 'no self-test has run yet');
  if (!selfTest.passed) {
    const failed = checks.filter((c) => c.outcome === 'fail').map((c) => c.name);
    return report('not_verified', `the last self-test failed${failed.length ? ` (${failed.join(', ')})` : ''}`);
  }
  if (!current) return report('not_verified', 'the definition changed after the last self-test');
  if (needsReview.length) return report('needs_review', `${needsReview.length} tool(s) waiting for review`);
  return report('live', 'self-test passed and every tool is approved');
}

/** The status of a stored application, or undefined when there is none with this slug. */
export async function loadStatus(store: Store, slug: string): Promise<StatusReport | undefined> {
  const stored = await store.applications.get(slug);
  if (!stored) return undefined;
  const [tools, selfTest] = await Promise.all([store.tools.list(slug), store.selfTests.get(slug)]);
  return statusOf(slug, definitionHash(stored.definition), tools, selfTest);
}

export async function recordSelfTest(store: Store, result: SelfTestResult, hash: string): Promise<void> {
  await store.selfTests.put({
    appSlug: result.slug,
    ranAt: result.ranAt,
    passed: result.passed,
    definitionHash: hash,
    url: result.url,
    checks: JSON.stringify(result.checks),
  });
}

/**
 * Self-test a stored application against the server whose public URL is `issuer`, and record the
 * result. The definition is read (and hashed) before the test runs, so a change made while it runs
 * is not counted as verified. Undefined when there is no application with this slug.
 */
export async function selfTestStored(
  store: Store,
  slug: string,
  options: Omit<SelfTestOptions, 'app' | 'tools'>,
): Promise<SelfTestResult | undefined> {
  const stored = await store.applications.get(slug);
  if (!stored) return undefined;
  const hash = definitionHash(stored.definition);
  const app = resolveApplication(parseDefinition(JSON.parse(stored.definition)), options.issuer);
  const result = await runSelfTest({ ...options, app, tools: await store.tools.list(slug) });
  await recordSelfTest(store, result, hash);
  return result;
}
