/**
 * Functions a reader can hold in their head: none in src/ runs over 80 lines, except the
 * declarative tables named below (a table grows by rows, not by logic). Measured on the source
 * with a real TypeScript parser (swc, the one the layer rules use), from each function's first
 * line to its last.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { parseSync } from '@swc/core';

const root = join(import.meta.dirname, '..', '..');
const LIMIT = 80;

/** `path:name` of functions that are declarative tables, with why. */
const TABLES: Record<string, string> = {};

const FUNCTION_NODES = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression', 'ClassMethod', 'PrivateMethod', 'Constructor']);

interface Span {
  start: number;
  end: number;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every function of a file over the limit: `path:line name (n lines)`. */
function longFunctions(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  const bytes = Buffer.from(text);
  const ast = parseSync(text, { syntax: 'typescript' });
  const offset = ast.span.start;
  // swc spans are byte offsets (from the module's start): count newlines in bytes.
  const lineAt = (byte: number) => {
    let line = 1;
    for (let i = 0; i < byte - offset && i < bytes.length; i++) if (bytes[i] === 0x0a) line++;
    return line;
  };
  const found: string[] = [];
  const visit = (node: unknown, name: string | undefined): void => {
    if (Array.isArray(node)) return node.forEach((child) => visit(child, name));
    if (!node || typeof node !== 'object') return;
    const record = node as Record<string, unknown> & { type?: string; span?: Span };
    let label = name;
    if (record.type === 'VariableDeclarator') label = (record.id as { value?: string })?.value ?? label;
    if (record.type === 'KeyValueProperty' || record.type === 'ClassMethod' || record.type === 'MethodProperty') label = (record.key as { value?: string })?.value ?? label;
    if (record.type === 'FunctionDeclaration') label = (record.identifier as { value?: string })?.value ?? label;
    if (record.type && FUNCTION_NODES.has(record.type) && record.span) {
      const lines = lineAt(record.span.end) - lineAt(record.span.start) + 1;
      const where = `${relative(root, path)}:${label ?? '(anonymous)'}`;
      if (lines > LIMIT && !(where in TABLES)) found.push(`${relative(root, path)}:${lineAt(record.span.start)} ${label ?? '(anonymous)'} (${lines} lines)`);
    }
    for (const [key, value] of Object.entries(record)) if (key !== 'span') visit(value, label);
  };
  visit(ast.body, undefined);
  return found;
}

describe('function length', () => {
  it(`no function in src/ runs over ${LIMIT} lines (declarative tables excepted, by name)`, () => {
    const long = sourceFiles(join(root, 'src')).flatMap(longFunctions);
    assert.deepEqual(long, []);
  });

  it('the measure sees a long function when there is one', () => {
    const long = `function long() {\n${'  step();\n'.repeat(LIMIT)}}\n`;
    const ast = parseSync(long, { syntax: 'typescript' });
    const fn = ast.body[0] as unknown as { span: Span };
    assert.ok(Buffer.from(long).subarray(0, fn.span.end - ast.span.start).toString().split('\n').length > LIMIT);
  });
});
