/**
 * The two scripts the passkey buttons need, served from our own origin (the CSP allows scripts
 * from 'self' only, never inline, never a CDN): the @simplewebauthn/browser bundle (UMD, it sets
 * `window.SimpleWebAuthnBrowser`) and our small page script (assets/passkeys.js). Both are read
 * once at start-up; a browser may cache them for an hour.
 */
import type { Hono } from 'hono';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { WebEnv } from '../web/pages.ts';

const JS_HEADERS = { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=3600' };

let scripts: { webauthn: string; page: string } | undefined;

/** Read on first use (the package's main entry is script/index.js; the bundle sits beside it in dist/). */
function loaded(): { webauthn: string; page: string } {
  if (!scripts) {
    const main = createRequire(import.meta.url).resolve('@simplewebauthn/browser');
    const bundle = join(dirname(main), '..', 'dist', 'bundle', 'index.umd.min.js');
    scripts = { webauthn: readFileSync(bundle, 'utf8'), page: readFileSync(join(import.meta.dirname, 'assets', 'passkeys.js'), 'utf8') };
  }
  return scripts;
}

export function passkeyAssetRoutes(app: Hono<WebEnv>): void {
  app.get('/assets/webauthn.js', (c) => c.body(loaded().webauthn, 200, JS_HEADERS));
  app.get('/assets/passkeys.js', (c) => c.body(loaded().page, 200, JS_HEADERS));
}
