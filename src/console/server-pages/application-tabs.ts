/**
 * The tabs of one application's page (`/server/applications/<slug>/…`): Overview, Conditions,
 * Tools, Connect. Plain links (keyboard and screen readers need nothing more); the current one
 * carries `aria-current="page"`. Shared by applications.ts and application-tools.ts so both draw
 * the same tabs.
 */
import { html, type Html } from '../../web/html.ts';
import type { WebDeps } from '../../web/pages.ts';
import { serverPath } from './access.ts';

export type ApplicationTab = 'overview' | 'conditions' | 'tools' | 'connect';

const TABS: { id: ApplicationTab; rest: string; label: string }[] = [
  { id: 'overview', rest: '', label: 'Overview' },
  { id: 'conditions', rest: '/conditions', label: 'Conditions' },
  { id: 'tools', rest: '/tools', label: 'Tools' },
  { id: 'connect', rest: '/connect', label: 'Connect' },
];

/** The path of one tab of the application `slug`. */
export function applicationPath(deps: WebDeps, slug: string, tab: ApplicationTab = 'overview'): string {
  return serverPath(deps, 'applications', `/${encodeURIComponent(slug)}${TABS.find((t) => t.id === tab)!.rest}`);
}

/** The tab links of the application `slug`, `current` marked. */
export function applicationTabs(deps: WebDeps, slug: string, current: ApplicationTab): Html {
  return html`<nav class="nav tabs" aria-label="Application" data-testid="application-tabs">${TABS.map(
    (t) => html`<a href="${applicationPath(deps, slug, t.id)}" data-testid="tab-${t.id}"${t.id === current ? html` aria-current="page"` : ''}>${t.label}</a>`,
  )}</nav>`;
}
