/**
 * Time windows (an application's or a tool's `timeWindows`, core/application.ts): whether a
 * moment falls inside one. A window is [from, to) in wall-clock time of its IANA time zone (default UTC), on the
 * listed days of the week (0 = Sunday; default every day):
 *
 * - `to` earlier than `from` spans midnight, and belongs to the day it starts on: Friday 22:00–06:00
 *   is open from Friday 22:00 to Saturday 06:00 (and not on Friday 00:00–06:00);
 * - `to` equal to `from` is a whole day (24 hours from `from`), e.g. 00:00–00:00 on days [1..5];
 * - daylight-saving changes follow the wall clock: 09:00–17:00 means 09:00–17:00 local time on
 *   both sides of a change (an hour that does not exist locally is simply never reached).
 *
 * Fails closed: a time zone the runtime does not know (should the schema ever let one through)
 * makes its window closed.
 */
/** A window as an application definition gives it (core/application.ts): [from, to) "HH:MM" local time. */
export interface TimeWindow {
  from: string;
  to: string;
  /** Days of the week it opens on, 0 = Sunday; every day when absent. */
  days?: number[];
  /** IANA time zone name. */
  timeZone: string;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const formatters = new Map<string, Intl.DateTimeFormat | null>();

function formatterFor(timeZone: string): Intl.DateTimeFormat | null {
  let format = formatters.get(timeZone);
  if (format === undefined) {
    try {
      format = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    } catch {
      format = null;
    }
    formatters.set(timeZone, format);
  }
  return format;
}

/** An IANA time zone name the runtime knows ("Europe/Paris", "UTC"). */
export function isTimeZone(timeZone: string): boolean {
  return formatterFor(timeZone) !== null;
}

/** Day of week (0 = Sunday) and minutes since midnight at `now` (epoch ms), in `timeZone`. */
export function localTime(now: number, timeZone: string): { day: number; minutes: number } | undefined {
  const format = formatterFor(timeZone);
  if (!format) return undefined;
  const parts = Object.fromEntries(format.formatToParts(now).map((p) => [p.type, p.value]));
  return { day: WEEKDAYS.indexOf(parts.weekday!), minutes: Number(parts.hour) * 60 + Number(parts.minute) };
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));

/** Is `now` (epoch ms) inside `window`? */
export function insideWindow(window: TimeWindow, now: number): boolean {
  const local = localTime(now, window.timeZone);
  if (!local) return false;
  const { day, minutes } = local;
  const from = toMinutes(window.from);
  const to = toMinutes(window.to);
  const onDay = (d: number) => !window.days || window.days.includes(d);
  if (from < to) return minutes >= from && minutes < to && onDay(day);
  // Spans midnight (or is a whole day when from === to): the part after `from` belongs to today,
  // the part before `to` to the window that started yesterday.
  if (minutes >= from) return onDay(day);
  if (minutes < to) return onDay((day + 6) % 7);
  return false;
}
