/**
 * `/server/configuration`: the configuration this server runs with, value by value, with where
 * each came from and every secret masked (config-origins.ts). Read-only: configuration is changed
 * in the file or the environment and takes effect on restart (`portcullis config check` first).
 */
import type { Hono } from 'hono';
import { html } from '../../web/html.ts';
import type { WebEnv } from '../../web/pages.ts';
import { configurationRows } from './config-origins.ts';
import { serverAccess, serverPage, type ServerPagesDeps } from './access.ts';

export function configurationRoutes(app: Hono<WebEnv>, deps: ServerPagesDeps): void {
  app.get('/server/configuration', async (c) => {
    const me = await serverAccess(deps, c);
    if (me instanceof Response) return me;
    const rows = configurationRows(deps.config);
    const body = html`<p>Sources, in the order they apply (a later one wins): ${deps.config.sources.join(' → ')}. Secrets are never shown. To change a value, edit the file or the environment, run <code>portcullis config check</code>, and restart.</p>
<div class="table-scroll" tabindex="0"><table data-testid="configuration"><caption>Effective configuration</caption><thead><tr><th scope="col">Setting</th><th scope="col">Value</th><th scope="col">From</th></tr></thead>
<tbody>${rows.map((r) => html`<tr data-testid="config-row" data-path="${r.path}" data-origin="${r.origin}"${r.masked ? html` data-masked="true"` : ''}><th scope="row"><code>${r.path}</code></th><td><code>${r.value}</code></td><td>${r.origin}</td></tr>`)}</tbody></table></div>`;
    return c.html(await serverPage(deps, c, me, 'configuration', body));
  });
}
