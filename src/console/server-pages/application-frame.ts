/**
 * What the application pages share (applications.ts, application-conditions.ts,
 * application-connect.ts): the application service the admin API builds, a form's CSRF'd parts,
 * a refused form's state, and an application's page with its tabs and notices.
 */
import type { FieldError } from '../../core/errors.ts';
import { applicationService, type ApplicationService } from '../../applications/service.ts';
import { notice } from '../account/layout.ts';
import { formRefusal } from '../refusals.ts';
import { html, type Html } from '../../web/html.ts';
import { csrfToken, type WebContext } from '../../web/pages.ts';
import type { SignedIn } from '../../web/session.ts';
import { serverPage, type ServerPagesDeps } from './access.ts';
import { applicationTabs, type ApplicationTab } from './application-tabs.ts';
import type { FormParts, FormState } from './applications-views.ts';

type Form = Record<string, string | File>;

export const NOTICES = {
  created: 'The MCP server was added. Run the self-test, then review its tools.',
  updated: 'Saved. Run the self-test again: the definition changed.',
  deleted: 'The application was deleted.',
  tested: 'The self-test ran; its checks are below.',
};

/** The application service the admin API builds, on the same store, registry and audit log. */
export function pagesService(deps: ServerPagesDeps): ApplicationService {
  return applicationService({ store: deps.store, publicUrl: deps.config.publicUrl, now: deps.now, changed: () => deps.gateway.registry.reload(), audit: deps.audit });
}

export function formParts(deps: ServerPagesDeps, c: WebContext, action: string, purpose: string): FormParts {
  return { action, csrf: html`<input type="hidden" name="csrf" value="${csrfToken(deps, c, purpose)}">` };
}

/** The values typed into a refused form (the CSRF token aside), and its problems; a refusal that is not one is rethrown. */
export function refusedState(err: unknown, form: Form): { state: FormState; status: 400 | 403 | 404 | 409 | 410 } {
  const refused = formRefusal(err);
  const errors: FieldError[] = refused.errors.length ? refused.errors : [{ path: '(root)', message: refused.text }];
  const values = Object.fromEntries(Object.entries(form).filter((e): e is [string, string] => typeof e[1] === 'string' && e[0] !== 'csrf'));
  return { state: { values, errors }, status: refused.status };
}

/** An application's page with its tabs: `current` tab, `body` below them. */
export function applicationPage(deps: ServerPagesDeps, c: WebContext, me: SignedIn, name: string, slug: string, current: ApplicationTab, body: Html): Promise<string> {
  return serverPage(deps, c, me, 'applications', html`${applicationTabs(deps, slug, current)}${notice(c, NOTICES)}${body}`, name);
}

