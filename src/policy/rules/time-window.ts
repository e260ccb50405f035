/**
 * Time windows, per application and per tool: calls are allowed only inside one of the listed
 * windows (core/time-windows.ts says what "inside" means: wall-clock time of the window's zone,
 * across midnight and daylight-saving changes). Fails closed on an unknown time zone.
 */
import { insideWindow } from '../../core/time-windows.ts';
import { ALLOW, deny, toolRule, type Rule } from '../rule.ts';

/** Calls are allowed only inside one of the application's (and the tool's) time windows. */
export const timeWindow: Rule = ({ app, target, now }) => {
  const appWindows = app.conditions.timeWindows;
  if (appWindows && !appWindows.some((w) => insideWindow(w, now))) return deny('policy_denied', 'time-window', { resource: `app:${app.slug}` });
  const toolWindows = target.method === 'tools/call' && target.name ? toolRule(app, target.name)?.timeWindows : undefined;
  if (toolWindows && !toolWindows.some((w) => insideWindow(w, now))) return deny('policy_denied', 'time-window', { resource: `tool:${target.name}` });
  return ALLOW;
};
