// The runtime's layout: no module imports itself back through others (type imports count too,
// since a cycle of types is a cycle of concepts), and the package ships its built files only.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT } from './queue/helpers.js';

const SOURCE = path.join(ROOT, 'runtime/src');
const IMPORT = /(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g;

/** Every .ts file under runtime/src, relative to it. */
function sourceFiles(folder = SOURCE): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [path.relative(SOURCE, full)] : [];
  });
}

/** The project modules a file imports (static, type-only and dynamic imports alike). */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(SOURCE, file), 'utf8');
  return [...text.matchAll(IMPORT)].map((match) =>
    path.relative(
      SOURCE,
      path.resolve(path.dirname(path.join(SOURCE, file)), (match[1] ?? match[2]).replace(/\.js$/, '.ts')),
    ),
  );
}

/** The first import cycle found by a depth-first walk, as the list of files around it. */
function findCycle(graph: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const trail: string[] = [];
  const visit = (file: string): string[] | undefined => {
    if (state.get(file) === 'done') return undefined;
    if (state.get(file) === 'open') return [...trail.slice(trail.indexOf(file)), file];
    state.set(file, 'open');
    trail.push(file);
    for (const next of graph.get(file) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    trail.pop();
    state.set(file, 'done');
    return undefined;
  };
  for (const file of graph.keys()) {
    const cycle = visit(file);
    if (cycle) return cycle;
  }
  return undefined;
}

test('no import cycle in runtime/src', () => {
  const files = sourceFiles();
  const graph = new Map(files.map((file) => [file, importsOf(file)]));
  for (const [file, imports] of graph) {
    for (const target of imports) assert.ok(graph.has(target), `${file} imports ${target}, which does not exist`);
  }
  const cycle = findCycle(graph);
  assert.is(cycle, undefined, `import cycle: ${cycle?.join(' -> ')}`);
});

test('the cycle check sees a cycle when there is one', () => {
  const graph = new Map([
    ['a.ts', ['b.ts']],
    ['b.ts', ['c.ts']],
    ['c.ts', ['a.ts']],
  ]);
  assert.equal(findCycle(graph), ['a.ts', 'b.ts', 'c.ts', 'a.ts']);
});

test('the loco-runtime tarball ships dist/ and no src/', () => {
  const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: path.join(ROOT, 'runtime'),
    encoding: 'utf8',
  });
  const files: string[] = JSON.parse(output)[0].files.map((file: { path: string }) => file.path);
  assert.equal(
    files.filter((file) => file.startsWith('src/')),
    [],
  );
  assert.ok(files.includes('package.json'));
});

test.run();
