/**
 * "Open a refused request from the audit trail": one record explained — the decision, the rule
 * that decided (`details.rule`, as the gateway recorded it: audit/gateway-decisions.ts), the code's
 * entry in the denial reference (core/denial-reference.ts), the caller (a person, an API key, or a
 * client acting for itself), the application and tool — and, for a server administrator, a link
 * that asks the policy simulator the same question, prefilled (console/server-pages/simulator.ts
 * reads its form's fields from the query). The organization's page shows only its own records
 * (`orgId` narrows the read, so another organization's seq is simply not found).
 */
import { DENIAL_REFERENCE } from '../core/denial-reference.ts';
import type { ErrorCode } from '../core/errors.ts';
import { AuditNames, keyIdOf, type AuditView } from '../audit/views.ts';
import type { Store } from '../store/store.ts';
import { html, type Html } from '../web/html.ts';
import { when } from './account/layout.ts';

/** The record `seq`, within `orgId` when given (an org's page), with its names; undefined when there is none. */
export async function auditRecordAt(store: Store, seq: number, orgId?: string): Promise<AuditView | undefined> {
  if (!Number.isSafeInteger(seq) || seq < 1) return undefined;
  const [record] = await store.audit.list({ ...(orgId === undefined ? {} : { orgId }), afterSeq: seq - 1, order: 'asc', limit: 1 });
  if (!record || record.seq !== seq) return undefined;
  return (await new AuditNames(store).describe([record]))[0];
}

/** A client_credentials token's subject is the client itself (RFC 9068 §2.2): no person behind it. */
const clientAlone = (view: AuditView) => view.clientId !== null && view.subject === view.clientId;

const text = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined);

/** The policy simulator's form fields for the record's question: who (person, key, client alone), where, what. */
export function simulatorQuery(view: AuditView): URLSearchParams {
  const keyId = keyIdOf(view);
  const who: [string, string][] =
    keyId !== null ? [['as', 'key'], ['key', keyId]] : clientAlone(view) ? [['as', 'client'], ['client', view.clientId!]] : [['as', 'person'], ['email', view.userEmail ?? '']];
  const query = new URLSearchParams(who);
  if (view.app) query.set('app', view.app);
  if (view.tool) query.set('tool', view.tool);
  const ip = text(view.details?.clientIp);
  if (ip) query.set('ip', ip);
  return query;
}

function callerOf(view: AuditView): Html {
  const keyId = keyIdOf(view);
  if (keyId !== null) return html`API key <strong data-testid="explained-key">${view.keyName ?? keyId}</strong> (<code>${keyId}</code>)${view.userEmail ? html`, made by ${view.userEmail}` : ''}`;
  if (clientAlone(view)) return html`the client <strong data-testid="explained-client">${view.clientName ?? view.clientId}</strong> acting for itself (<code>${view.clientId}</code>)`;
  const client = view.clientId === null ? '' : html` through <span data-testid="explained-client">${view.clientName ?? view.clientId}</span>`;
  return html`<strong data-testid="explained-user">${view.userEmail ?? view.subject ?? 'no one (no credential)'}</strong>${client}`;
}

function reference(base: string, code: string | null): Html | '' {
  const entry = code === null ? undefined : DENIAL_REFERENCE[code as ErrorCode];
  if (!entry || code === null) return '';
  return html`<section aria-labelledby="reference-title" data-testid="explained-reference"><h2 id="reference-title">What <code>${code}</code> means</h2>
<p>${entry.meaning}</p><p><strong>Fix:</strong> ${entry.fix}</p><p><a href="${base}/docs/denials#${code}">The denial reference’s entry, and what the client receives</a></p></section>`;
}

/** The explanation of one record; `simulatorPath` only for a server administrator (the simulator is theirs). */
export function auditExplanation(base: string, view: AuditView, backPath: string, simulatorPath?: string): Html {
  const rule = text(view.details?.rule);
  const decided = view.decision === 'deny' ? html`Refused: <strong>${view.reason ?? 'denied'}</strong>` : html`${view.decision ?? 'no decision'}${view.reason ? html` (<code>${view.reason}</code>)` : ''}`;
  // A person's token's scopes and sign-in time are not in the record: the administrator fills them in.
  const person = simulatorQuery(view).get('as') === 'person' ? html` <span class="muted">(the record does not say which scopes the token carried, nor when they signed in: fill those in)</span>` : '';
  const simulate = simulatorPath && view.app ? html`<p><a href="${simulatorPath}?${String(simulatorQuery(view))}" data-testid="explained-simulate">Ask the policy simulator the same question</a>${person}</p>` : '';
  return html`<section aria-labelledby="record-title" data-testid="explained-record" data-seq="${view.seq}" data-decision="${view.decision ?? ''}" data-code="${view.reason ?? ''}" data-rule="${rule ?? ''}">
<h2 id="record-title">Record ${String(view.seq)}</h2>
<dl>
<dt>When</dt><dd>${when(view.at)}</dd>
<dt>What</dt><dd><code>${view.kind}</code></dd>
<dt>Decision</dt><dd data-testid="explained-decision">${decided}</dd>
<dt>Rule</dt><dd data-testid="explained-rule">${rule ? html`<code>${rule}</code>` : '—'}</dd>
<dt>Caller</dt><dd>${callerOf(view)}</dd>
<dt>Application · tool</dt><dd data-testid="explained-tool">${view.app ?? '—'}${view.tool ? html` · <code>${view.tool}</code>` : ''}</dd>
<dt>Calling from</dt><dd>${text(view.details?.clientIp) ?? '—'}</dd>
</dl>
</section>
${reference(base, view.reason)}${simulate}
<p><a href="${backPath}">Back to the audit trail</a></p>`;
}
