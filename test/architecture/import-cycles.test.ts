import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The import graph of src/, read from the source text (no compiler, no
 * dependency: it runs in milliseconds). A file that imports another, even only
 * its types, depends on it: a cycle means neither can be read, tested or
 * moved without the other, and two folders that import each other are one
 * capability in two places.
 */
const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');


// `import x from '…'`, `import type { X } from '…'`, `export { x } from '…'`, `export * from '…'`, `import '…'`.
const IMPORT = /^\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The src/ file a relative specifier names (`./x.js` is `./x.ts` or `./x.tsx`), or undefined for packages and files outside src/ (migrations). */
function resolveImport(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(dirname(from), specifier).replace(/\.js$/, '');
  if (!base.startsWith(`${SRC}/`)) return undefined;
  return [`${base}.ts`, `${base}.tsx`, join(base, 'index.ts')].find((candidate) => existsSync(candidate));
}

function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const imports = [...readFileSync(file, 'utf8').matchAll(IMPORT)].map((match) => resolveImport(file, match[1]!)).filter((dep): dep is string => dep !== undefined);
    graph.set(relative(SRC, file), [...new Set(imports.map((dep) => relative(SRC, dep)))]);
  }
  return graph;
}

/** Strongly connected components with more than one file (or a file importing itself): Tarjan's algorithm. */
function cycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  function visit(file: string): void {
    index.set(file, counter);
    low.set(file, counter);
    counter++;
    stack.push(file);
    onStack.add(file);
    for (const dep of graph.get(file) ?? []) {
      if (!index.has(dep)) {
        visit(dep);
        low.set(file, Math.min(low.get(file)!, low.get(dep)!));
      } else if (onStack.has(dep)) low.set(file, Math.min(low.get(file)!, index.get(dep)!));
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || graph.get(file)!.includes(file)) found.push(component.sort());
  }
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return found;
}

/** The top-level folder of a file; files directly in src/ (app.ts, runtime.ts …) compose everything and belong to none. */
const folderOf = (file: string) => (file.includes('/') ? file.split('/')[0]! : undefined);

/** Every pair of folders importing each other, with the imports that make each direction. */
function mutualFolders(graph: Map<string, string[]>): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const [file, deps] of graph) {
    for (const dep of deps) {
      const [from, to] = [folderOf(file), folderOf(dep)];
      if (!from || !to || from === to) continue;
      const key = `${from} -> ${to}`;
      edges.set(key, [...(edges.get(key) ?? []), `${file} -> ${dep}`]);
    }
  }
  const pairs = new Map<string, string[]>();
  for (const [key, imports] of edges) {
    const [from, to] = key.split(' -> ') as [string, string];
    const back = edges.get(`${to} -> ${from}`);
    if (back && from < to) pairs.set(`${from} <-> ${to}`, [...imports, ...back]);
  }
  return pairs;
}

describe('the import graph of src/', () => {
  const graph = importGraph();

  it('reads every source file and the imports between them', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get('app.ts')).toContain('http/error-handler.ts');
  });

  it('has no import cycle between files', () => {
    const found = cycles(graph);
    expect(found, `files importing each other, directly or through others:\n${found.map((c) => `  ${c.join(', ')}`).join('\n')}`).toEqual([]);
  });

  it('has no two top-level folders importing each other', () => {
    const offending = [...mutualFolders(graph)];
    const report = offending.map(([pair, imports]) => `  ${pair}\n${imports.map((line) => `    ${line}`).join('\n')}`).join('\n');
    expect(offending.map(([pair]) => pair), `folders importing each other:\n${report}`).toEqual([]);
  });
});
