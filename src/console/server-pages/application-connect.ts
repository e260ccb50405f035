/**
 * `/server/applications/<slug>/connect`: copy-ready ways to connect a client to the application's
 * MCP URL. Every client here signs in by itself: it meets the URL's 401, reads the protected
 * resource metadata it names (RFC 9728 §5.1) and runs OAuth with this server (MCP authorization,
 * 2025-06-18) — so each snippet is only the URL, in that client's format. `portcullis connect`
 * serves clients that speak stdio only.
 */
import type { Hono } from 'hono';
import { html, type Html } from '../../web/html.ts';
import type { WebEnv } from '../../web/pages.ts';
import { refusalPage } from '../refusals.ts';
import { serverAccess, type ServerPagesDeps } from './access.ts';
import { applicationPage, pagesService } from './application-frame.ts';

interface Snippet {
  id: string;
  client: string;
  how: string;
  text: string;
}

/** The snippets for the application `name` at `url` (JSON built with JSON.stringify, so any name stays valid JSON). */
export function snippets(name: string, url: string): Snippet[] {
  const json = (value: unknown) => JSON.stringify(value, null, 2);
  return [
    { id: 'claude-code', client: 'Claude Code', how: 'In a terminal:', text: `claude mcp add --transport http ${name} ${url}` },
    { id: 'claude-ai', client: 'claude.ai', how: 'Settings → Connectors → Add custom connector, with this URL:', text: url },
    { id: 'chatgpt', client: 'ChatGPT', how: 'Settings → Connectors (developer mode) → Create, with this URL:', text: url },
    { id: 'vscode', client: 'VS Code', how: 'In .vscode/mcp.json:', text: json({ servers: { [name]: { type: 'http', url } } }) },
    { id: 'cursor', client: 'Cursor', how: 'In .cursor/mcp.json (or ~/.cursor/mcp.json):', text: json({ mcpServers: { [name]: { url } } }) },
    { id: 'inspector', client: 'MCP Inspector', how: 'Run this, choose the Streamable HTTP transport and paste the URL:', text: `npx @modelcontextprotocol/inspector\n${url}` },
    { id: 'stdio', client: 'Clients that speak stdio only', how: 'Run the MCP server command:', text: `portcullis connect ${url}` },
  ];
}

function snippetList(list: Snippet[]): Html {
  return html`${list.map(
    (s) => html`<section data-testid="snippet" data-client="${s.id}"><h2>${s.client}</h2><p class="muted">${s.how}</p><pre class="json" tabindex="0" aria-label="${s.client} snippet"><code>${s.text}</code></pre></section>`,
  )}`;
}

export function applicationConnectRoutes(app: Hono<WebEnv>, deps: ServerPagesDeps): void {
  const service = pagesService(deps);
  app.get('/server/applications/:slug/connect', async (c) => {
    const me = await serverAccess(deps, c);
    if (me instanceof Response) return me;
    const slug = c.req.param('slug');
    try {
      const { app: application } = await service.get(slug);
      const body = html`<p>MCP URL: <code data-testid="mcp-url">${application.resource}</code></p>${snippetList(snippets(application.slug, application.resource))}`;
      return c.html(await applicationPage(deps, c, me, application.name, slug, 'connect', body));
    } catch (err) {
      return refusalPage(deps, c, err);
    }
  });
}
