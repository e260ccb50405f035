/**
 * Debian's Chromium driven by playwright-core (never a downloaded browser).
 *
 * When the browser tests run: PORTCULLIS_TEST_CHROMIUM is set (then Chromium must start, or the
 * tests fail), or /usr/bin/chromium exists. Only when neither is true are they not registered,
 * with one diagnostic line saying so — they are never `skip`ped.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** The Chromium binary to use, or undefined when this machine has none and none was asked for. */
export function chromiumPath(): string | undefined {
  const chosen = process.env.PORTCULLIS_TEST_CHROMIUM;
  if (chosen) return chosen;
  return existsSync(DEFAULT_CHROMIUM) ? DEFAULT_CHROMIUM : undefined;
}

/** Why the browser tests are not registered here (one line), or undefined when they run. */
export function chromiumUnavailable(): string | undefined {
  return chromiumPath()
    ? undefined
    : `browser tests not registered: no Chromium at ${DEFAULT_CHROMIUM} and PORTCULLIS_TEST_CHROMIUM is not set (apt-get install chromium)`;
}

export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error(chromiumUnavailable());
  return chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
