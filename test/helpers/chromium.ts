/**
 * Debian's Chromium driven by playwright-core (never a downloaded browser).
 *
 * When the browser tests run: PORTCULLIS_TEST_CHROMIUM is set (then Chromium must start, or the
 * tests fail), or /usr/bin/chromium exists, or CI=true (then a missing Chromium fails the run).
 * Otherwise they are registered with `{ skip: 'why' }` (`chromiumSkip()`), so the count shows them.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { skipUnless } from './prerequisites.ts';

const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** The Chromium binary to use, or undefined when this machine has none and none was asked for. */
export function chromiumPath(): string | undefined {
  const chosen = process.env.PORTCULLIS_TEST_CHROMIUM;
  if (chosen) return chosen;
  return existsSync(DEFAULT_CHROMIUM) ? DEFAULT_CHROMIUM : undefined;
}

/** Why the browser tests cannot run here, or undefined when they can. */
export function chromiumUnavailable(): string | undefined {
  return chromiumPath() ? undefined : `no Chromium at ${DEFAULT_CHROMIUM} and PORTCULLIS_TEST_CHROMIUM is not set (apt-get install chromium)`;
}

/** `skip` for a browser test: the reason when Chromium is missing outside CI; in CI, never. */
export function chromiumSkip(): string | false {
  return skipUnless(chromiumUnavailable());
}

export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error(chromiumUnavailable());
  return chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
