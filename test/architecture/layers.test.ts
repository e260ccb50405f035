/**
 * The layers docs/ARCHITECTURE.md draws are kept by a tool, not by good intentions: every rule of
 * .dependency-cruiser.cjs holds over src/ (type-only imports included), folders never import each
 * other in a cycle, the published SDKs' import closure holds nothing of the server, and a
 * forbidden import — written here on purpose, in a scratch tree — is caught.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { cruise, type ICruiseResult, type IForbiddenRuleType } from 'dependency-cruiser';

const root = join(import.meta.dirname, '..', '..');
const config = createRequire(import.meta.url)(join(root, '.dependency-cruiser.cjs')) as { forbidden: IForbiddenRuleType[]; options: Record<string, unknown> };

async function cruiseTree(baseDir: string, paths: string[]): Promise<ICruiseResult> {
  const previous = process.cwd();
  // dependency-cruiser resolves the rules' paths against the working directory.
  process.chdir(baseDir);
  try {
    const { output } = await cruise(paths, { ...config.options, ruleSet: { forbidden: config.forbidden }, validate: true, outputType: 'json' } as never);
    return (typeof output === 'string' ? JSON.parse(output) : output) as ICruiseResult;
  } finally {
    process.chdir(previous);
  }
}

/** `src/<folder>/…` → the folder; the SDKs count one folder each (`sdk/guard`). */
function folderOf(path: string): string | undefined {
  const parts = path.split('/');
  if (parts[0] !== 'src' || parts.length < 3) return undefined;
  return parts[1] === 'sdk' ? `sdk/${parts[2]}` : parts[1];
}

function violations(result: ICruiseResult): string[] {
  return (result.summary.violations ?? []).map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
}

describe('architecture', () => {
  let result: ICruiseResult;
  const cruised = async () => (result ??= await cruiseTree(root, ['src']));

  it('every layer rule holds over src/ (type-only imports included)', async () => {
    const found = await cruised();
    assert.ok(found.modules.length > 150, `cruised only ${found.modules.length} modules: is the parser missing?`);
    assert.deepEqual(violations(found), []);
  });

  /** Which folder imports which (type-only imports included). */
  const folderEdges = async () => {
    const edges = new Map<string, Set<string>>();
    for (const module of (await cruised()).modules) {
      const from = folderOf(module.source);
      if (!from) continue;
      for (const dependency of module.dependencies) {
        const to = folderOf(dependency.resolved);
        if (to && to !== from) (edges.get(from) ?? edges.set(from, new Set()).get(from)!).add(to);
      }
    }
    return edges;
  };

  it('no two folders import each other, directly or round a cycle', async () => {
    const edges = await folderEdges();
    // Depth-first search; a back edge is a cycle, reported as its path.
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (folder: string, path: string[]) => {
      state.set(folder, 'open');
      for (const next of edges.get(folder) ?? []) {
        if (state.get(next) === 'open') cycles.push([...path.slice(path.indexOf(next)), folder, next].join(' → '));
        else if (!state.has(next)) visit(next, [...path, folder]);
      }
      state.set(folder, 'done');
    };
    for (const folder of edges.keys()) if (!state.has(folder)) visit(folder, []);
    assert.deepEqual(cycles, []);
  });

  it("docs/ARCHITECTURE.md's folder map is the import graph", async () => {
    const doc = readFileSync(join(root, 'docs', 'ARCHITECTURE.md'), 'utf8');
    const block = /<!-- folder-imports:begin -->([\s\S]*?)<!-- folder-imports:end -->/.exec(doc);
    assert.ok(block, 'the folder map markers are missing from docs/ARCHITECTURE.md');
    const documented = new Map<string, string[]>();
    for (const line of block[1].split('\n')) {
      const row = /^([\w/-]+)\s+→\s+(.*)$/.exec(line.trim());
      if (row) documented.set(row[1], row[2].split(/\s+/).sort());
    }
    const actual = new Map([...(await folderEdges())].map(([from, to]) => [from, [...to].sort()]));
    const lines = (map: Map<string, string[]>) => [...map].sort(([a], [b]) => a.localeCompare(b)).map(([from, to]) => `${from} → ${to.join(' ')}`);
    // A moved import shows here as the line to write into the document.
    assert.deepEqual(lines(documented), lines(actual));
  });

  it('every folder of src/ says what it is: a README.md index, and a place in docs/ARCHITECTURE.md', () => {
    const folders = readdirSync(join(root, 'src'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .flatMap((entry) => (entry.name === 'sdk' ? ['sdk', ...readdirSync(join(root, 'src', 'sdk'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => `sdk/${e.name}`)] : [entry.name]));
    const doc = readFileSync(join(root, 'docs', 'ARCHITECTURE.md'), 'utf8');
    const missing = folders.filter((folder) => {
      const index = join(root, 'src', folder, 'README.md');
      if (!existsSync(index)) return true;
      // A title naming the folder, then at least one paragraph.
      const [title, , paragraph] = readFileSync(index, 'utf8').split('\n');
      return !title?.startsWith(`# ${folder} — `) || !paragraph?.trim() || !doc.includes(`${folder.split('/').pop()}/`);
    });
    assert.ok(folders.length >= 20, `found only ${folders.length} folders`);
    assert.deepEqual(missing, []);
  });

  it("the published SDKs' import closure holds only the SDKs and shared/", async () => {
    const build = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')) as { files: string[] };
    const dependencies = new Map((await cruised()).modules.map((m) => [m.source, m.dependencies.map((d) => d.resolved)]));
    const reached = new Set<string>();
    const pending = [...build.files];
    while (pending.length) {
      const next = pending.pop()!;
      if (reached.has(next)) continue;
      reached.add(next);
      pending.push(...(dependencies.get(next) ?? []).filter((d) => d.startsWith('src/')));
    }
    const server = [...reached].filter((path) => !/^src\/(sdk|shared)\//.test(path));
    assert.deepEqual(server, [], 'server modules inside the published SDKs');
    assert.ok(reached.size >= build.files.length);
  });

  it('a forbidden import is caught: core reaching the store, an SDK reaching the server', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'pct-layers-'));
    try {
      const write = (path: string, text: string) => {
        mkdirSync(dirname(join(scratch, path)), { recursive: true });
        writeFileSync(join(scratch, path), text);
      };
      write('src/store/open.ts', 'export const open = 1;\n');
      write('src/core/config.ts', "import { open } from '../store/open.ts';\nexport const config = open;\n");
      write('src/sdk/guard/index.ts', "import type { config } from '../../core/config.ts';\nexport type Config = typeof config;\n");
      const found = await cruiseTree(scratch, ['src']);
      assert.deepEqual(violations(found).sort(), [
        'core-is-the-ground-floor: src/core/config.ts → src/store/open.ts',
        'sdks-know-no-server: src/sdk/guard/index.ts → src/core/config.ts',
      ]);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
