/**
 * The check every console page's browser test runs (test/helpers/accessibility.ts) catches what it
 * promises to: text too faint in the dark scheme only (WCAG 2.2 SC 1.4.3), a page that scrolls
 * sideways on a phone (SC 1.4.10 Reflow), a wide table that scrolls in a box the keyboard cannot
 * reach (SC 2.1.1) — and passes the same page once it is fixed the way the shared stylesheet does.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { STYLESHEET } from '../../src/web/html.ts';
import { checkPage } from '../helpers/accessibility.ts';
import { chromiumSkip, launchChromium } from '../helpers/chromium.ts';

const ROWS = Array.from({ length: 3 }, (_, i) => `<tr><td>person-${i}-with-a-long-address@example.com</td><td>organization-number-${i}-of-many</td><td>2026-12-08T01:00:00Z</td><td>administrator, disabled</td></tr>`).join('');
const TABLE = `<table><caption>People</caption><thead><tr><th scope="col">Person</th><th scope="col">Organizations</th><th scope="col">Last sign-in</th><th scope="col">Flags</th></tr></thead><tbody>${ROWS}</tbody></table>`;

function document(body: string, css = STYLESHEET): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Check</title><style>${css}</style></head><body><main class="card wide"><h1>People</h1>${body}</main></body></html>`;
}

describe('the accessibility check itself', { skip: chromiumSkip() }, () => {
  let browser: Browser;
  let page: Page;
  before(async () => {
    browser = await launchChromium();
    page = await (await browser.newContext({ colorScheme: 'light' })).newPage();
  });
  after(async () => {
    await browser?.close();
  });

  it('fails a colour that is readable in the light scheme but not in the dark one', async () => {
    await page.setContent(document('<p class="faint">Last sign-in: never</p>', `${STYLESHEET}\n@media (prefers-color-scheme: dark) { .faint { color: #2d333b; } }`));
    await assert.rejects(checkPage(page, 'check-dark-contrast'), /color-contrast/);
    assert.equal(await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches), false, 'the scheme is put back');
  });

  it('fails a wide table that makes the page scroll sideways at 390 px, and passes it inside .table-scroll', async () => {
    await page.setContent(document(TABLE));
    await checkPage(page, 'check-wide-table');
    await assert.rejects(checkPage(page, 'check-wide-table', { narrow: true }), /scrolls sideways/);
    assert.equal(page.viewportSize()?.width, 1280, 'the viewport is put back');
    await page.setContent(document(`<div class="table-scroll" tabindex="0">${TABLE}</div>`));
    await checkPage(page, 'check-wide-table-boxed', { narrow: true });
  });

  it('fails a scrolling box the keyboard cannot reach', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.setContent(document(`<div class="table-scroll">${TABLE}</div>`));
      await assert.rejects(checkPage(page, 'check-unfocusable-scroll'), /scrollable-region-focusable/);
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });
});
