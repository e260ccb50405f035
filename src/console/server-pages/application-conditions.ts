/**
 * `/server/applications/<slug>/conditions`: when and from where an application may be called —
 * IP ranges, time windows — and each tool's rules: step-up (a recent sign-in, with a second factor
 * when `mfa` is true: RFC 9470), argument → resource mappings, its own ranges and windows. Saved
 * through applications/service.ts like an admin API PUT, so the refusals are the API's (same
 * codes, same field paths: `ipAllow.0`, `timeWindows.1.timeZone`, `tools.<name>.stepUp.maxAge`),
 * each shown beside its field. Each tool the manifest knows gets its own fields for step-up and
 * argument mappings (server-pages/tool-rule-fields.ts); the JSON stays for everything else.
 */
import type { Hono } from 'hono';
import { isReadOnly } from '../../applications/views.ts';
import { html } from '../../web/html.ts';
import type { WebContext, WebEnv } from '../../web/pages.ts';
import type { SignedIn } from '../../web/session.ts';
import { refusalPage } from '../refusals.ts';
import { serverAccess, serverForm, type ServerPagesDeps } from './access.ts';
import { conditionsInput, conditionsValues } from './application-input.ts';
import { applicationPath } from './application-tabs.ts';
import { applicationPage, formParts, pagesService, refusedState } from './application-frame.ts';
import { input, otherErrors, type FormState } from './applications-views.ts';
import { jsonRuleState, toolRuleFieldsets } from './tool-rule-fields.ts';

const TOOLS_HINT = 'JSON, per tool: {"delete_note": {"scope": "notes:delete", "ipAllow": ["10.0.0.0/8"], "stepUp": {"maxAge": "5m", "mfa": true}, "arguments": {"projectId": "project"}}}. The fields above win for the tools they show.';

/** Open when it holds rules, or a refusal of its own (never hide an error). */
function advancedOpen(state: FormState, tools: readonly string[]): boolean {
  return Boolean(state.values.tools?.trim()) || jsonRuleState(state, tools).errors.some((e) => e.path === 'tools' || e.path.startsWith('tools.'));
}

function conditionsForm(deps: ServerPagesDeps, c: WebContext, slug: string, state: FormState, readOnly: boolean, tools: readonly string[]) {
  const parts = formParts(deps, c, applicationPath(deps, slug, 'conditions'), 'applications:conditions');
  return html`${readOnly ? html`<p class="muted" data-testid="read-only">Defined in the server's configuration; change it there. Shown as it is.</p>` : ''}
<form method="post" action="${parts.action}" data-testid="conditions-form">${parts.csrf}
${input(state, { name: 'ipAllow', label: 'Allowed IP ranges, one a line (empty: from anywhere)', paths: ['ipAllow'], multiline: true, placeholder: '10.0.0.0/8' })}
${input(state, { name: 'timeWindows', label: 'Time windows, one a line (empty: at any time)', paths: ['timeWindows'], multiline: true, placeholder: '09:00-17:30 Europe/Paris 1,2,3,4,5', hint: 'Hours from-to, then the IANA time zone (default UTC), then the days (0 = Sunday; default every day).' })}
<h2>Tool rules</h2>
${toolRuleFieldsets(state, tools, readOnly)}
<details data-testid="advanced-tool-rules"${advancedOpen(state, tools) ? html` open` : ''}><summary>Advanced: tool rules as JSON</summary>
${input(jsonRuleState(state, tools), { name: 'tools', label: 'Other tool rules (JSON): a scope, IP ranges and windows per tool, tools not listed yet', paths: ['tools'], multiline: true, hint: TOOLS_HINT })}
</details>
${otherErrors(state, ['ipAllow', 'timeWindows', 'tools'])}
${readOnly ? '' : html`<div class="actions"><button class="primary" type="submit">Save conditions</button></div>`}</form>`;
}

async function page(deps: ServerPagesDeps, c: WebContext, me: SignedIn, slug: string, state?: FormState, status = 200): Promise<Response> {
  const loaded = await pagesService(deps).get(slug);
  const tools = (await deps.store.tools.list(slug)).map((t) => t.name).sort();
  const shown = state ?? { values: conditionsValues(JSON.parse(loaded.stored.definition), tools), errors: [] };
  const body = conditionsForm(deps, c, slug, shown, isReadOnly(loaded.stored.source), tools);
  return c.html(await applicationPage(deps, c, me, loaded.app.name, slug, 'conditions', body), status as 200);
}

export function applicationConditionRoutes(app: Hono<WebEnv>, deps: ServerPagesDeps): void {
  const service = pagesService(deps);

  app.get('/server/applications/:slug/conditions', async (c) => {
    const me = await serverAccess(deps, c);
    if (me instanceof Response) return me;
    try {
      return await page(deps, c, me, c.req.param('slug'));
    } catch (err) {
      return refusalPage(deps, c, err);
    }
  });

  app.post('/server/applications/:slug/conditions', async (c) => {
    const posted = await serverForm(deps, c, 'applications:conditions');
    if (posted instanceof Response) return posted;
    const slug = c.req.param('slug');
    try {
      const { stored } = await service.get(slug);
      await service.update(slug, conditionsInput(posted.form, JSON.parse(stored.definition) as Record<string, unknown>), posted.me.user.id);
      return c.redirect(`${applicationPath(deps, slug, 'conditions')}?done=updated`, 303);
    } catch (err) {
      const { state, status } = refusedState(err, posted.form);
      if (status === 404) return refusalPage(deps, c, err);
      return page(deps, c, posted.me, slug, state, status);
    }
  });
}
