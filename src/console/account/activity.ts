/**
 * `/account/activity`: what you did and what happened to your account — every audit record whose
 * actor or subject is you, in any organization — newest first, a page at a time, drawn like an
 * organization's trail (console/audit-views.ts). Only your own records: there is no filter that
 * names anyone else.
 */
import type { Hono } from 'hono';
import { listActivity } from '../../audit/listing.ts';
import { DEFAULT_PAGE } from '../../audit/query.ts';
import { AuditNames } from '../../audit/views.ts';
import { html } from '../../web/html.ts';
import type { WebDeps, WebEnv } from '../../web/pages.ts';
import { auditTable } from '../audit-views.ts';
import { requireSignedIn, signedInPage } from './layout.ts';

export function activityRoutes(app: Hono<WebEnv>, deps: WebDeps): void {
  app.get('/account/activity', async (c) => {
    const me = await requireSignedIn(deps, c);
    if (me instanceof Response) return me;
    const raw = c.req.query('before');
    // A cursor that is not a record number starts from the newest (nothing to refuse on a read of one's own).
    const before = raw && /^\d{1,15}$/.test(raw) ? Number(raw) : undefined;
    const listing = await listActivity(deps.store, new AuditNames(deps.store), me.user.id, { before, limit: DEFAULT_PAGE });
    return c.html(
      await signedInPage(deps, c, me, {
        title: 'Activity',
        active: 'activity',
        body: html`<h1>Your activity</h1>
<p class="muted">Sign-ins, tokens, consents, changes to your account and every call made as you through the gateway, newest first.</p>
${auditTable(listing, `${deps.base}/account/activity`, { before: before === undefined ? undefined : String(before) })}`,
      }),
    );
  });
}
