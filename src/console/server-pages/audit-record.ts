/**
 * `/server/audit/<seq>`: any record of the audit trail explained for a server administrator
 * (console/audit-explanation.ts) — whichever organization it belongs to, or none — with the link
 * that asks the policy simulator the same question.
 */
import { notFound } from '../account/layout.ts';
import { auditExplanation, auditRecordAt } from '../audit-explanation.ts';
import { serverAccess, serverPage, serverPath, type ServerRoutes } from './access.ts';

export const auditRecordRoutes: ServerRoutes = (app, deps) => {
  app.get('/server/audit/:seq{[0-9]+}', async (c) => {
    const me = await serverAccess(deps, c);
    if (me instanceof Response) return me;
    const view = await auditRecordAt(deps.store, Number(c.req.param('seq')));
    if (!view) return notFound(deps, c);
    // Back to the record's organization's trail when it has one, else the dashboard (there is no server-wide list yet).
    const org = view.orgId === null ? undefined : await deps.store.orgs.get(view.orgId);
    const back = org ? `${deps.base}/orgs/${org.slug}/audit` : serverPath(deps, 'dashboard');
    const body = auditExplanation(deps.base, view, back, serverPath(deps, 'simulator'));
    return c.html(await serverPage(deps, c, me, 'dashboard', body, `Audit record ${view.seq}`));
  });
};
