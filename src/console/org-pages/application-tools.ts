/**
 * `/orgs/<slug>/applications/<app>/tools`: the tool manifest of an organization's application and
 * its review, for the organization's owners and admins — drawn by the server pages' view
 * (server-pages/application-tools-views.ts), acted on through applications/service.ts scoped to
 * the organization, always with the fingerprint of the version the page showed (a tool that
 * changed in between is refused `tool_changed` and shown again).
 */
import type { Hono } from 'hono';
import type { ApplicationService } from '../../applications/service.ts';
import { isReadOnly } from '../../applications/views.ts';
import { PortcullisError } from '../../core/errors.ts';
import { confirmFirst } from '../confirm.ts';
import { notice, problem } from '../account/layout.ts';
import { formRefusal, refusalPage } from '../refusals.ts';
import { html, type Html } from '../../web/html.ts';
import { field, type WebContext, type WebEnv } from '../../web/pages.ts';
import type { ServerPagesDeps } from '../server-pages/access.ts';
import { withScope } from '../server-pages/application-tools.ts';
import { toolsTab } from '../server-pages/application-tools-views.ts';
import { orgAccess, orgForm, type OrgAccess } from './access.ts';
import { orgApplicationPage, orgApplicationPath, orgApplicationService } from './applications.ts';

type Form = Record<string, string | File>;

const NOTICES = {
  approved: 'The tool was approved in the version shown. Clients whose token has its scope see it now.',
  rejected: 'The tool was sent back to review. Clients no longer see it or reach it.',
  scope_set: 'The scope was saved. It applies to calls from now on; tokens without it are refused the tool.',
  refreshed: 'The MCP server was asked for its tools again.',
};

async function toolsPage(deps: ServerPagesDeps, c: WebContext, access: OrgAccess, slug: string, shown: Html | '' = ''): Promise<string> {
  const { loaded, tools } = await orgApplicationService(deps, access.org).tools(slug);
  const forms = { deps, c, base: orgApplicationPath(deps, access.org, slug, 'tools'), readOnly: isReadOnly(loaded.stored.source) };
  return orgApplicationPage(deps, c, access, loaded.app.name, slug, 'tools', html`${notice(c, NOTICES)}${shown}${toolsTab(forms, loaded.app, tools)}`);
}

/** The tool a form names, with the fingerprint of the version it showed (a review always names one). */
function reviewed(form: Form): { name: string; fingerprint: string } {
  const fingerprint = field(form, 'fingerprint');
  if (!fingerprint) throw new PortcullisError('invalid_request', 'an approval names the version reviewed', { detail: { errors: [{ path: 'fingerprint', message: 'required' }] } });
  return { name: field(form, 'name'), fingerprint };
}

type Action = (service: ApplicationService, form: Form, slug: string, access: OrgAccess) => Promise<string>;

/** One POST of the tab (the CSRF purposes are the tab view's), back to the tab with its notice. */
function toolAction(app: Hono<WebEnv>, deps: ServerPagesDeps, what: string, act: Action, confirm?: (form: Form, cancel: string) => Parameters<typeof confirmFirst>[4]): void {
  const purpose = `server:tools:${what}`;
  app.post(`/orgs/:org/applications/:slug/tools/${what}`, async (c) => {
    const posted = await orgForm(deps, c, purpose);
    if (posted instanceof Response) return posted;
    const { access, form } = posted;
    const slug = c.req.param('slug');
    const tab = orgApplicationPath(deps, access.org, slug, 'tools');
    const ask = confirm && confirmFirst(deps, c, form, purpose, confirm(form, tab));
    if (ask) return ask;
    try {
      const done = await act(orgApplicationService(deps, access.org), form, slug, access);
      return c.redirect(`${tab}?done=${done}`, 303);
    } catch (err) {
      if (!(err instanceof PortcullisError && err.code === 'tool_changed')) return refusalPage(deps, c, err);
      const refused = formRefusal(err);
      const text = `${field(form, 'name')} changed at the MCP server since this page was drawn, so the version you approved is not the one listed now. Review it again below.`;
      return c.html(await toolsPage(deps, c, access, slug, problem(refused.code, text)), refused.status);
    }
  });
}

export function orgApplicationToolRoutes(app: Hono<WebEnv>, deps: ServerPagesDeps): void {
  app.get('/orgs/:org/applications/:slug/tools', async (c) => {
    const access = await orgAccess(deps, c);
    if (access instanceof Response) return access;
    try {
      return c.html(await toolsPage(deps, c, access, c.req.param('slug')));
    } catch (err) {
      return refusalPage(deps, c, err);
    }
  });

  toolAction(app, deps, 'approve', async (service, form, slug, { me }) => {
    const { name, fingerprint } = reviewed(form);
    await service.review(slug, name, 'approved', me.user.email, fingerprint, me.user.id);
    return 'approved';
  });

  toolAction(app, deps, 'reject', async (service, form, slug, { me }) => {
    const { name, fingerprint } = reviewed(form);
    await service.review(slug, name, 'needs_review', me.user.email, fingerprint, me.user.id);
    return 'rejected';
  }, (form, cancel) => ({
    title: `Send ${field(form, 'name')} back to review?`,
    text: 'Clients stop seeing the tool at once and calls to it are refused until it is approved again.',
    button: 'Send back to review',
    cancel,
  }));

  toolAction(app, deps, 'scope', async (service, form, slug, { me }) => {
    const { loaded, tools } = await service.tools(slug);
    const name = field(form, 'name');
    if (!tools.some((t) => t.name === name)) throw new PortcullisError('not_found', `no tool ${name}`);
    await service.update(slug, withScope(JSON.parse(loaded.stored.definition) as Record<string, unknown>, name, field(form, 'scope')), me.user.id);
    return 'scope_set';
  });

  toolAction(app, deps, 'refresh', async (service, _form, slug) => {
    await service.get(slug);
    const served = deps.gateway.registry.get(slug);
    if (!served) throw new PortcullisError('not_found', `${slug} is not served by this process yet`);
    await deps.gateway.refreshManifest(served);
    return 'refreshed';
  });
}
