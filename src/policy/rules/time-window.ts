import type { TimeWindow } from '../../apps/definition.ts';
import { ALLOW, deny, type Rule } from '../rule.ts';

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const formatters = new Map<string, Intl.DateTimeFormat>();

function localTime(now: number, timeZone: string): { day: number; minutes: number } {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(now).map((p) => [p.type, p.value]));
  return { day: WEEKDAYS.indexOf(parts.weekday!), minutes: Number(parts.hour) * 60 + Number(parts.minute) };
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));

/** Inside the window: [from, to) in its time zone; `to` before `from` spans midnight (the day is the start day). */
export function insideWindow(window: TimeWindow, now: number): boolean {
  const { day, minutes } = localTime(now, window.timeZone);
  const from = toMinutes(window.from);
  const to = toMinutes(window.to);
  const days = window.days;
  if (from <= to) return minutes >= from && minutes < to && (!days || days.includes(day));
  if (minutes >= from) return !days || days.includes(day);
  if (minutes < to) return !days || days.includes((day + 6) % 7);
  return false;
}

/** Calls are allowed only inside one of the application's (and the tool's) time windows. */
export const timeWindow: Rule = ({ app, target, now }) => {
  const appWindows = app.conditions.timeWindows;
  if (appWindows && !appWindows.some((w) => insideWindow(w, now))) return deny('policy_denied', 'time-window', { resource: `app:${app.slug}` });
  const toolWindows = target.method === 'tools/call' && target.name ? app.tools[target.name]?.timeWindows : undefined;
  if (toolWindows && !toolWindows.some((w) => insideWindow(w, now))) return deny('policy_denied', 'time-window', { resource: `tool:${target.name}` });
  return ALLOW;
};
