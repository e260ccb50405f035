/**
 * A node:test reporter that writes one line per skipped test (`file:line name — reason`) to its
 * destination. scripts/test.ts reads the file after the run: with CI=true a skipped test fails the
 * run (every prerequisite — Chromium, PostgreSQL, Redis — must be there in CI); elsewhere the
 * skips are printed, so a missing prerequisite is seen, never silent.
 */
interface TestEvent {
  type: string;
  data: { name: string; file?: string; line?: number; skip?: string | boolean; todo?: string | boolean };
}

export default async function* skipped(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { skip, name, file, line } = event.data;
    if (skip === undefined || skip === false) continue;
    yield `${file ?? '?'}:${line ?? '?'} ${name} — ${typeof skip === 'string' ? skip : 'skipped'}\n`;
  }
}
