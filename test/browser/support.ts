/**
 * What the browser tests share: a server on its first run (no account yet, so it prints a setup
 * link), a loopback callback server for MCP clients (which also serves a page of "another site"),
 * an MCP client as a desktop app runs it (the v1 SDK), and a watcher that records every document
 * a page loads (with its headers), every console error and every CSP violation.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { BrowserContext, Page } from 'playwright-core';
import { loadConfig } from '../../src/core/config.ts';
import { silentLogger } from '../../src/core/log.ts';
import { startPortcullis, type Running } from '../../src/server/app.ts';
import { desktopClientMetadata, MemoryOAuthProvider } from '../helpers/mcp-clients.ts';

export interface FreshServer extends Running {
  setupLink: string;
  stop(): Promise<void>;
}

/** A server exactly as `npm start` leaves it the first time: no account, a one-time setup link. */
export async function startFreshServer(): Promise<FreshServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-browser-'));
  const config = loadConfig({ env: {}, cwd: dataDir, overrides: { port: 0, dataDir, logLevel: 'silent' } });
  const running = await startPortcullis(config, { log: silentLogger(), quiet: false });
  const stop = async () => {
    await running.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  if (!running.setupLink) {
    await stop();
    throw new Error('a server without accounts printed no setup link');
  }
  return { ...running, setupLink: running.setupLink, stop };
}

/** Where an MCP client running on this machine receives the browser back (RFC 8252 loopback). */
export interface CallbackServer {
  redirectUri: string;
  origin: string;
  /** A page on this other origin that frames `src` (for clickjacking tests). */
  framing(src: string): string;
  /** Every URL the browser was sent back to, oldest first. */
  received: URL[];
  close(): Promise<void>;
}

export async function startCallbackServer(): Promise<CallbackServer> {
  const received: URL[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    if (url.pathname === '/frame') {
      const src = (url.searchParams.get('src') ?? '').replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);
      return void res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(`<!doctype html><title>Another site</title><link rel="icon" href="data:,"><iframe src="${src}" width="600" height="600"></iframe>`);
    }
    if (url.pathname !== '/callback') return void res.writeHead(404).end();
    received.push(url);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>Done</title><link rel="icon" href="data:,"><p>You can close this window.</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    redirectUri: `${origin}/callback`,
    origin,
    framing: (src) => `${origin}/frame?src=${encodeURIComponent(src)}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface DocumentSeen {
  url: string;
  status: number;
  headers: Record<string, string>;
}

export interface PageWatch {
  /** Every HTML document answered by `origin` (not redirects), in order. */
  documents: DocumentSeen[];
  /**
   * Console errors, uncaught page errors and CSP violations, as readable lines. Chromium also
   * logs "Failed to load resource" for a page whose own status is 4xx (a 400 error page, a 403
   * expired form): those statuses are the tests' business, so only failed sub-resources count.
   */
  problems(): string[];
  /** Status ≥ 500 of any response from `origin`, document or not. */
  serverErrors: string[];
}

/**
 * Watch every page of `context` (install before opening pages). CSP violations are reported by
 * the page's own `securitypolicyviolation` event, through a binding: the init script runs from
 * the DevTools protocol, so the page's CSP (no inline script) does not apply to it.
 */
export async function watchContext(context: BrowserContext, origin: string): Promise<PageWatch> {
  const documents: DocumentSeen[] = [];
  const documentUrls = new Set<string>();
  const serverErrors: string[] = [];
  const seen: { text: string; resource?: string }[] = [];
  await context.exposeBinding('__portcullisCspViolation', ({ page }, detail: string) => {
    seen.push({ text: `CSP violation on ${page.url()}: ${detail}` });
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      const report = (window as unknown as { __portcullisCspViolation(detail: string): void }).__portcullisCspViolation;
      report(`${event.violatedDirective} blocked ${event.blockedURI || '(inline)'}`);
    });
  });
  const onPage = (page: Page) => {
    page.on('console', (message) => {
      if (message.type() === 'error') seen.push({ text: `console error on ${page.url()}: ${message.text()} (${message.location().url})`, resource: message.location().url });
    });
    page.on('pageerror', (err) => seen.push({ text: `page error on ${page.url()}: ${err.message}` }));
    page.on('request', (request) => {
      if (request.resourceType() === 'document') documentUrls.add(request.url());
    });
    page.on('response', async (response) => {
      if (!response.url().startsWith(`${origin}/`)) return;
      if (response.status() >= 500) serverErrors.push(`${response.status()} ${response.url()}`);
      if (response.request().resourceType() !== 'document' || (response.status() >= 300 && response.status() < 400)) return;
      const headers = await response.allHeaders();
      if ((headers['content-type'] ?? '').startsWith('text/html')) documents.push({ url: response.url(), status: response.status(), headers });
    });
  };
  context.on('page', onPage);
  for (const page of context.pages()) onPage(page);
  return {
    documents,
    serverErrors,
    problems: () => seen.filter((p) => !(p.resource && documentUrls.has(p.resource))).map((p) => p.text),
  };
}

/** An MCP client as a desktop app runs it: the v1 SDK with an in-memory credential store. */
export class DesktopClient {
  readonly provider: MemoryOAuthProvider;
  readonly #url: URL;
  #transport: StreamableHTTPClientTransport | undefined;
  #client: Client | undefined;

  constructor(mcpUrl: string, redirectUri: string, name: string) {
    this.#url = new URL(mcpUrl);
    this.provider = new MemoryOAuthProvider({ redirectUri, metadata: desktopClientMetadata(redirectUri, name) });
  }

  /** Connect; returns the authorization URL when the SDK sent the user to the browser. */
  async connect(): Promise<URL | undefined> {
    this.#transport = new StreamableHTTPClientTransport(this.#url, { authProvider: this.provider as unknown as OAuthClientProvider });
    this.#client = new Client({ name: this.provider.clientMetadata.client_name as string, version: '1.0.0' });
    try {
      await this.#client.connect(this.#transport);
      return undefined;
    } catch (err) {
      if (err instanceof UnauthorizedError) return this.provider.pendingAuthorization;
      throw err;
    }
  }

  /** Redeem the code the browser brought back, then reconnect with the tokens. */
  async finish(callback: URL): Promise<void> {
    await this.#transport!.finishAuth(callback.searchParams.get('code')!);
    assert.equal(await this.connect(), undefined, 'connected with the new tokens');
  }

  async toolNames(): Promise<string[]> {
    return (await this.#client!.listTools()).tools.map((t) => t.name).sort();
  }

  async close(): Promise<void> {
    await this.#client?.close();
  }
}
