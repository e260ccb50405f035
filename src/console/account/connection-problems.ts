/**
 * `/account`'s "Connection problems": the connection doctor's diagnoses (audit/doctor/diagnoses.ts,
 * the only implementation) of this person's own attempts to connect clients — diagnosed from the
 * steps recorded as theirs (sign-in, consent, tokens, calls through the gateway), never from
 * anyone else's, so a shared client's troubles with other people do not show here.
 */
import { diagnose } from '../../audit/doctor/diagnoses.ts';
import { DOCTOR_RETENTION_SECONDS } from '../../audit/doctor/retention.ts';
import { html, type Html } from '../../web/html.ts';
import type { WebDeps } from '../../web/pages.ts';
import { when } from './layout.ts';

export async function connectionProblemsSection(deps: Pick<WebDeps, 'store' | 'now'>, userId: string): Promise<Html> {
  const now = deps.now();
  const events = await deps.store.connectionEvents.forUser(userId, now - DOCTOR_RETENTION_SECONDS);
  // The same problem again (a client retrying) is said once, at its newest (diagnose sorts newest first).
  const seen = new Set<string>();
  const diagnoses = diagnose(events, now).filter((d) => {
    const key = `${d.clientId} ${d.code} ${d.problem}`;
    return !seen.has(key) && Boolean(seen.add(key));
  });
  const heading = html`<h2 id="connection-problems">Connection problems</h2>`;
  if (diagnoses.length === 0) {
    return html`${heading}<p class="muted" data-testid="no-connection-problems">No problems in your attempts to connect apps in the last seven days.</p>`;
  }
  return html`${heading}<p>What went wrong when you connected apps in the last seven days, and what to do about it (your server administrator sees the same).</p>
<ul class="diagnoses" data-testid="connection-problems" aria-labelledby="connection-problems">${diagnoses.map(
    (d) => html`<li data-testid="diagnosis" data-code="${d.code}" data-client="${d.clientId}"><p><strong>${d.problem}</strong> ${when(d.at)}</p><p>App (client id): <code>${d.clientId}</code></p><p>Fix: ${d.fix}</p></li>`,
  )}</ul>`;
}
