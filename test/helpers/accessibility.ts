/**
 * What every console page's browser test checks besides its behaviour (issue 14 §8): axe-core run
 * in the page finds no serious or critical violation (WCAG 2.x A and AA rules), and a screenshot is
 * kept as a test artifact under `test-artifacts/screenshots/` (git-ignored) for a person to look at.
 *
 * axe-core is injected with `page.addScriptTag({ content })`, which Playwright evaluates through the
 * DevTools protocol — the pages' strict CSP (no inline script) stays as it is for the test.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Page } from 'playwright-core';

const require = createRequire(import.meta.url);
let source: string | undefined;
const axeSource = () => (source ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));

export const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'screenshots');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/** The serious and critical violations axe-core finds on the page as it is now. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  const loaded = await page.evaluate(() => typeof (globalThis as { axe?: unknown }).axe === 'object');
  if (!loaded) await page.evaluate(axeSource());
  const result = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    return axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
  });
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export interface CheckOptions {
  /** Also check the page 390 px wide (a phone), then restore the viewport. */
  narrow?: boolean;
}

/**
 * Assert no serious or critical accessibility violation in the light AND the dark colour scheme
 * (WCAG 2.2 SC 1.4.3 contrast differs per palette), that the page never scrolls sideways (SC 1.4.10
 * Reflow: wide tables scroll inside their own box instead), and keep a screenshot per scheme named
 * after `name`. With `narrow`, the same again at 390 px wide.
 */
export async function checkPage(page: Page, name: string, options: CheckOptions = {}): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const dark = await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches);
  await checkScheme(page, name, dark);
  await page.emulateMedia({ colorScheme: dark ? 'light' : 'dark' });
  try {
    await checkScheme(page, `${name}-${dark ? 'light' : 'dark'}`, !dark);
  } finally {
    await page.emulateMedia({ colorScheme: dark ? 'dark' : 'light' });
  }
  if (options.narrow) await checkNarrow(page, name);
}

async function checkNarrow(page: Page, name: string): Promise<void> {
  const before = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    await checkPage(page, `${name}-390`);
  } finally {
    if (before) await page.setViewportSize(before);
  }
}

async function checkScheme(page: Page, name: string, dark: boolean): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name.replace(/[^a-z0-9-]+/gi, '-')}.png`), fullPage: true });
  const where = `${page.url()} (${dark ? 'dark' : 'light'}, ${page.viewportSize()?.width ?? '?'} px)`;
  const sideways = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(sideways <= 0, `the page scrolls sideways by ${sideways} px on ${where}`);
  const violations = await seriousViolations(page);
  assert.deepEqual(
    violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`),
    [],
    `accessibility violations on ${where}`,
  );
}
