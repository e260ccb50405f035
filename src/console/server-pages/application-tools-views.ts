/**
 * How the Tools tab draws one application's tool manifest: each tool with what the model is told
 * (title, description, annotations, input and output schema — everything its fingerprint covers,
 * applications/manifest.ts), the scope it needs (a picker of the application's scopes; empty =
 * the MCP-annotation default, policy/scopes.ts), when it was first and last seen, and its review.
 * A tool that changed after approval shows the approved version beside the one listed now, and
 * its approve button carries the fingerprint of the version shown, so an approval never covers
 * a version the reviewer did not see (the service refuses `tool_changed`).
 */
import type { Application } from '../../core/application.ts';
import { toolView, type ToolView } from '../../applications/views.ts';
import { toolRule } from '../../policy/rule.ts';
import type { ToolRecord } from '../../store/tools.ts';
import { csrfField, when } from '../account/layout.ts';
import { html, type Html } from '../../web/html.ts';
import type { WebContext, WebDeps } from '../../web/pages.ts';

/** What a form of this tab needs: where it posts, and the CSRF token for its purpose. */
export interface ToolForms {
  deps: WebDeps;
  c: WebContext;
  /** `/server/applications/<slug>/tools` (each action is a path below it). */
  base: string;
  /** Config and built-in applications: their definition (hence the scope) is not edited here. */
  readOnly: boolean;
}

/** The parts of a version compared, with their words. */
const PARTS = [
  ['title', 'Title'],
  ['description', 'Description'],
  ['annotations', 'Annotations'],
  ['inputSchema', 'Input schema'],
  ['outputSchema', 'Output schema'],
] as const;

type Part = (typeof PARTS)[number][0];
type Version = Pick<ToolView, Part>;

/** A value as the reviewer reads it: text as is, JSON indented. */
function shown(value: unknown): string {
  if (value === null || value === undefined) return '(none)';
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

function schema(label: string, testid: string, value: unknown): Html {
  if (value === null || value === undefined) return html`<p class="muted" data-testid="${testid}" data-absent="true">No ${label.toLowerCase()}.</p>`;
  return html`<details data-testid="${testid}"><summary>${label}</summary><pre class="json">${shown(value)}</pre></details>`;
}

/** The approved version beside the listed one, part by part (only the parts that differ). */
function changes(record: ToolRecord, before: Version | null, now: Version): Html {
  if (!before) {
    return html`<section data-testid="tool-changes" data-known="false"><h3>Changed since it was approved</h3>
<p>The approved version was recorded before Portcullis kept schemas, so it cannot be shown. Review the version below as if it were new.</p></section>`;
  }
  const differing = PARTS.filter(([part]) => JSON.stringify(before[part]) !== JSON.stringify(now[part]));
  return html`<section data-testid="tool-changes" data-known="true"><h3>Changed since it was approved</h3>
<p class="muted">Approved ${when(record.reviewedAt)}${record.reviewedBy ? html` by ${record.reviewedBy}` : ''}. The approved version is on the left, what the MCP server lists now on the right.</p>
${differing.map(([part, label]) => html`<h4>${label}</h4>
<div class="compare" data-testid="change" data-part="${part}">
<div><p class="muted">Approved</p><pre class="json" data-testid="old">${shown(before[part])}</pre></div>
<div><p class="muted">Now</p><pre class="json" data-testid="new">${shown(now[part])}</pre></div>
</div>`)}
</section>`;
}

function scopeForm(forms: ToolForms, app: Application, view: ToolView, index: number): Html {
  const assigned = toolRule(app, view.name)?.scope;
  if (forms.readOnly) {
    return html`<p data-testid="tool-scope" data-scope="${view.scope}">Scope: <code>${view.scope}</code> <span class="muted">(set in the configuration file; the MCP-annotation default is ${view.defaultScope})</span></p>`;
  }
  return html`<form method="post" action="${forms.base}/scope" class="inline" data-testid="tool-scope" data-scope="${view.scope}">${csrfField(forms.deps, forms.c, 'server:tools:scope')}
<input type="hidden" name="name" value="${view.name}">
<label for="scope-${index}">Scope a client needs for ${view.name}</label>
<select id="scope-${index}" name="scope"><option value=""${assigned ? '' : html` selected`}>Default from its annotations: ${view.defaultScope}</option>
${app.scopes.map((s) => html`<option value="${s.name}"${s.name === assigned ? html` selected` : ''}>${s.name} — ${s.description}</option>`)}</select>
<button type="submit" data-testid="set-scope">Set scope</button></form>`;
}

function reviewForms(forms: ToolForms, view: ToolView): Html {
  const hidden = html`<input type="hidden" name="name" value="${view.name}"><input type="hidden" name="fingerprint" value="${view.fingerprint}">`;
  const approve = html`<form method="post" action="${forms.base}/approve" class="inline">${csrfField(forms.deps, forms.c, 'server:tools:approve')}${hidden}<button class="primary" type="submit" data-testid="approve">Approve ${view.name} as shown</button></form>`;
  const reject = html`<form method="post" action="${forms.base}/reject" class="inline">${csrfField(forms.deps, forms.c, 'server:tools:reject')}${hidden}<button class="danger" type="submit" data-testid="reject">Send ${view.name} back to review</button></form>`;
  return html`<div class="actions">${view.status === 'approved' ? reject : approve}</div>`;
}

function statusLine(record: ToolRecord, changed: boolean): Html {
  if (record.status === 'approved') {
    return html`<p data-testid="tool-status"><strong>Approved</strong> <span class="muted">${when(record.reviewedAt)}${record.reviewedBy ? html` by ${record.reviewedBy}` : ''}</span></p>`;
  }
  return html`<p data-testid="tool-status"><strong>Needs review</strong> <span class="muted">${changed ? 'it changed since it was approved' : 'not approved yet'}: clients do not see it and cannot call it</span></p>`;
}

/** One tool of the manifest, as reviewed. */
export function toolSection(forms: ToolForms, app: Application, record: ToolRecord, index: number): Html {
  const view = toolView(app, record);
  const changed = record.approvedFingerprint !== null && record.approvedFingerprint !== record.fingerprint;
  return html`<section class="tool" data-testid="tool" data-name="${view.name}" data-status="${view.status}" data-changed="${String(changed)}" data-fingerprint="${view.fingerprint}" aria-labelledby="tool-${index}">
<h2 id="tool-${index}"><code>${view.name}</code>${view.title ? html` <span class="muted">${view.title}</span>` : ''}</h2>
${statusLine(record, changed)}
<p data-testid="tool-description">${view.description ?? html`<span class="muted">No description.</span>`}</p>
<div class="table-scroll" tabindex="0"><table class="facts"><tbody>
<tr><th scope="row">Annotations</th><td data-testid="tool-annotations">${view.annotations ? html`<code>${JSON.stringify(view.annotations)}</code>` : html`<span class="muted">none (MCP defaults: not read-only, destructive)</span>`}</td></tr>
<tr><th scope="row">First seen</th><td>${when(record.firstSeenAt)}</td></tr>
<tr><th scope="row">Last seen</th><td>${when(record.lastSeenAt)}</td></tr>
</tbody></table></div>
${schema('Input schema', 'input-schema', view.inputSchema)}
${schema('Output schema', 'output-schema', view.outputSchema)}
${changed ? changes(record, view.approved, view) : ''}
${scopeForm(forms, app, view, index)}
${reviewForms(forms, view)}
</section>`;
}

/** The whole tab: the refresh button, then every tool (or why there are none). */
export function toolsTab(forms: ToolForms, app: Application, tools: readonly ToolRecord[]): Html {
  const waiting = tools.filter((t) => t.status !== 'approved').length;
  return html`<p>${tools.length} tools listed by the MCP server; <strong data-testid="needs-review-count">${waiting}</strong> waiting for review. A tool is shown to clients and forwarded only once approved, and only in the version approved.</p>
<form method="post" action="${forms.base}/refresh" class="inline">${csrfField(forms.deps, forms.c, 'server:tools:refresh')}<button type="submit" data-testid="refresh">Ask the MCP server for its tools again</button></form>
${tools.length ? tools.map((t, i) => toolSection(forms, app, t, i)) : html`<p class="muted" data-testid="no-tools">No tools seen yet: they are learned when the MCP server is first asked (the button above, or a client's tools/list).</p>`}`;
}
