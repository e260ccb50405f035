/**
 * Time windows (policy/rules/time-window.ts) with fixed clocks: boundaries, time zones and
 * daylight saving, windows across midnight, days of the week, per application and per tool.
 */
import type { TimeWindow } from '../../src/core/time-windows.ts';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationDefinitionSchema } from '../../src/core/application.ts';
import { evaluate, GATEWAY_RULES } from '../../src/policy/index.ts';
import { insideWindow, isTimeZone, localTime } from '../../src/core/time-windows.ts';
import { timeWindow } from '../../src/policy/rules/time-window.ts';
import { app, approvedTool, at, call, input } from './support.ts';

const w = (from: string, to: string, extra: Partial<TimeWindow> = {}): TimeWindow => ({ from, to, timeZone: 'UTC', ...extra });
const MON = 1;
const FRI = 5;
const SAT = 6;

describe('insideWindow', () => {
  it('[from, to): from is inside, to is not', () => {
    const office = w('09:00', '17:00');
    assert.equal(insideWindow(office, at('2025-03-10T08:59:59Z')), false);
    assert.equal(insideWindow(office, at('2025-03-10T09:00:00Z')), true);
    assert.equal(insideWindow(office, at('2025-03-10T16:59:59Z')), true);
    assert.equal(insideWindow(office, at('2025-03-10T17:00:00Z')), false);
  });

  it('reads the wall clock of its time zone', () => {
    const paris = w('09:00', '17:00', { timeZone: 'Europe/Paris' });
    // 10 March 2025: Paris is UTC+1.
    assert.equal(insideWindow(paris, at('2025-03-10T07:59:00Z')), false, '08:59 in Paris');
    assert.equal(insideWindow(paris, at('2025-03-10T08:00:00Z')), true, '09:00 in Paris');
    assert.equal(insideWindow(paris, at('2025-03-10T15:59:00Z')), true, '16:59 in Paris');
    assert.equal(insideWindow(paris, at('2025-03-10T16:00:00Z')), false, '17:00 in Paris');
    // Half-hour offsets: India is UTC+5:30.
    const kolkata = w('09:00', '09:30', { timeZone: 'Asia/Kolkata' });
    assert.equal(insideWindow(kolkata, at('2025-03-10T03:29:00Z')), false);
    assert.equal(insideWindow(kolkata, at('2025-03-10T03:30:00Z')), true);
    assert.equal(insideWindow(kolkata, at('2025-03-10T04:00:00Z')), false);
  });

  it('follows daylight saving: the same local hours on both sides of the change', () => {
    const paris = w('09:00', '17:00', { timeZone: 'Europe/Paris' });
    // 07:30 UTC is 08:30 in Paris before 30 March 2025 (UTC+1), and 09:30 after (UTC+2).
    assert.equal(insideWindow(paris, at('2025-03-28T07:30:00Z')), false);
    assert.equal(insideWindow(paris, at('2025-03-31T07:30:00Z')), true);
    // On the night of the change, 02:00–03:00 does not exist in Paris: a window there never opens.
    const lost = w('02:00', '03:00', { timeZone: 'Europe/Paris' });
    for (let minute = 0; minute < 180; minute += 5) {
      assert.equal(insideWindow(lost, at('2025-03-30T00:00:00Z') + minute * 60_000), false);
    }
  });

  it('a window across midnight belongs to the day it starts on', () => {
    const fridayNight = w('22:00', '06:00', { days: [FRI] });
    assert.equal(insideWindow(fridayNight, at('2025-03-14T21:59:00Z')), false, 'Friday 21:59');
    assert.equal(insideWindow(fridayNight, at('2025-03-14T22:00:00Z')), true, 'Friday 22:00');
    assert.equal(insideWindow(fridayNight, at('2025-03-14T23:59:00Z')), true, 'Friday 23:59');
    assert.equal(insideWindow(fridayNight, at('2025-03-15T00:00:00Z')), true, 'Saturday 00:00, still Friday night');
    assert.equal(insideWindow(fridayNight, at('2025-03-15T05:59:00Z')), true, 'Saturday 05:59');
    assert.equal(insideWindow(fridayNight, at('2025-03-15T06:00:00Z')), false, 'Saturday 06:00');
    assert.equal(insideWindow(fridayNight, at('2025-03-14T05:00:00Z')), false, 'Friday 05:00 is Thursday night');
    assert.equal(insideWindow(fridayNight, at('2025-03-15T22:30:00Z')), false, 'Saturday night');
  });

  it('days of the week are counted in the window’s time zone', () => {
    // 02:00 UTC on Saturday 15 March 2025 is 22:00 on Friday in New York (UTC-4).
    const fridayEvening = w('20:00', '23:00', { days: [FRI], timeZone: 'America/New_York' });
    assert.equal(insideWindow(fridayEvening, at('2025-03-15T02:00:00Z')), true);
    assert.deepEqual(localTime(at('2025-03-15T02:00:00Z'), 'America/New_York'), { day: FRI, minutes: 22 * 60 });
    const weekdays = w('09:00', '17:00', { days: [1, 2, 3, 4, 5], timeZone: 'America/New_York' });
    assert.equal(insideWindow(weekdays, at('2025-03-15T14:00:00Z')), false, 'Saturday 10:00');
    assert.equal(insideWindow(weekdays, at('2025-03-17T14:00:00Z')), true, 'Monday 10:00');
  });

  it('from equal to to is a whole day', () => {
    const weekdays = w('00:00', '00:00', { days: [MON, 2, 3, 4, FRI] });
    assert.equal(insideWindow(weekdays, at('2025-03-10T00:00:00Z')), true, 'Monday 00:00');
    assert.equal(insideWindow(weekdays, at('2025-03-10T23:59:59Z')), true, 'Monday 23:59');
    assert.equal(insideWindow(weekdays, at('2025-03-15T12:00:00Z')), false, 'Saturday');
    const fromNine = w('09:00', '09:00', { days: [SAT] });
    assert.equal(insideWindow(fromNine, at('2025-03-15T09:00:00Z')), true, 'Saturday 09:00');
    assert.equal(insideWindow(fromNine, at('2025-03-16T08:59:00Z')), true, 'Sunday 08:59, 24 hours on');
    assert.equal(insideWindow(fromNine, at('2025-03-16T09:00:00Z')), false, 'Sunday 09:00');
    assert.equal(insideWindow(fromNine, at('2025-03-15T08:59:00Z')), false, 'Saturday 08:59 belongs to Friday');
  });

  it('fails closed for a time zone the runtime does not know', () => {
    assert.equal(isTimeZone('Mars/Olympus_Mons'), false);
    assert.equal(insideWindow(w('00:00', '00:00', { timeZone: 'Mars/Olympus_Mons' }), at('2025-03-10T12:00:00Z')), false);
  });
});

describe('the schema checks windows', () => {
  it('refuses unknown time zones and malformed times, naming the field', () => {
    const parsed = ApplicationDefinitionSchema.safeParse({
      slug: 'vault',
      name: 'Vault',
      upstream: { url: 'http://127.0.0.1:1/mcp' },
      timeWindows: [{ from: '09:00', to: '17:00', timeZone: 'Mars/Olympus_Mons' }],
      tools: { wipe: { timeWindows: [{ from: '9:00', to: '24:00', days: [7] }] } },
    });
    assert.equal(parsed.success, false);
    const paths = parsed.error!.issues.map((i) => i.path.join('.')).sort();
    assert.deepEqual(paths, ['timeWindows.0.timeZone', 'tools.wipe.timeWindows.0.days.0', 'tools.wipe.timeWindows.0.from', 'tools.wipe.timeWindows.0.to']);
  });

  it('defaults the time zone to UTC', () => {
    const vault = app({ timeWindows: [{ from: '09:00', to: '17:00' }] });
    assert.equal(vault.conditions.timeWindows![0]!.timeZone, 'UTC');
  });
});

describe('timeWindow rule', () => {
  const vault = app({
    timeWindows: [w('08:00', '12:00', { days: [MON, 2, 3, 4, FRI] }), w('13:00', '18:00', { days: [MON, 2, 3, 4, FRI] })],
    tools: { wipe: { timeWindows: [w('09:00', '10:00', { timeZone: 'Europe/Paris' })] } },
  });

  it('the application windows apply to every request; any one of them is enough', () => {
    for (const target of [call('read'), { method: 'tools/list' }, { method: 'initialize' }]) {
      assert.deepEqual(timeWindow(input(vault, target, { now: at('2025-03-10T09:00:00Z') })), { allow: true });
      assert.deepEqual(timeWindow(input(vault, target, { now: at('2025-03-10T14:00:00Z') })), { allow: true });
      assert.deepEqual(timeWindow(input(vault, target, { now: at('2025-03-10T12:30:00Z') })), {
        allow: false,
        code: 'policy_denied',
        rule: 'time-window',
        detail: { resource: 'app:vault' },
      });
      assert.equal(timeWindow(input(vault, target, { now: at('2025-03-15T09:00:00Z') })).allow, false, 'Saturday');
    }
  });

  it('a tool window narrows the application windows for that tool only', () => {
    // 08:30 UTC on 10 March is 09:30 in Paris: inside both.
    assert.deepEqual(timeWindow(input(vault, call('wipe'), { now: at('2025-03-10T08:30:00Z') })), { allow: true });
    // 10:30 UTC: inside the application's morning, outside the tool's hour.
    assert.deepEqual(timeWindow(input(vault, call('wipe'), { now: at('2025-03-10T10:30:00Z') })), {
      allow: false,
      code: 'policy_denied',
      rule: 'time-window',
      detail: { resource: 'tool:wipe' },
    });
    assert.deepEqual(timeWindow(input(vault, call('read'), { now: at('2025-03-10T10:30:00Z') })), { allow: true });
  });

  it('in the gateway rule list, a closed window refuses before scopes and step-up', () => {
    const guarded = app({ timeWindows: [w('09:00', '17:00')], tools: { wipe: { stepUp: { maxAge: 60 } } } });
    const decision = evaluate(GATEWAY_RULES, { ...input(guarded, call('wipe'), { now: at('2025-03-10T20:00:00Z') }), tool: approvedTool('wipe') });
    assert.deepEqual(decision, { allow: false, code: 'policy_denied', rule: 'time-window', detail: { resource: 'app:vault' } });
  });
});
