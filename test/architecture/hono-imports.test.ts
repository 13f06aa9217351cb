/**
 * The HTTP framework stays at the edge: routes, pages and middleware translate
 * requests into plain values, and the domain never sees a request context. A
 * static scan of import and export-from statements, so it costs no database.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Files whose job is HTTP: their names say so, or they live in http/ or ui/. */
const HTTP_FILE_NAMES = new Set(['routes.ts', 'routes.tsx', 'pages.tsx', 'middleware.ts']);
const HTTP_FILES = new Set(['app.ts', 'main.ts']);
const HTTP_FOLDERS = ['http/', 'ui/'];

const CEREMONIES = [
  'sessions/sign-in.ts',
  'webauthn/authenticate.ts',
  'webauthn/register.ts',
  'passwords/authenticate.ts',
  'passwords/enroll.ts',
  'recovery/complete.ts',
  'oidc/authorize/interaction.ts',
];

const IMPORT_STATEMENT = /(?:^|[\n;])\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Each import or export-from statement of a file under src/: its text and the module it names. */
function importsOf(relative: string): { statement: string; from: string }[] {
  const text = readFileSync(path.join(SRC, relative), 'utf8');
  return [...text.matchAll(IMPORT_STATEMENT)].map((match) => ({ statement: match[0], from: match[1]! }));
}

const isHono = (from: string) => from === 'hono' || from.startsWith('hono/');
const mayImportHono = (relative: string) => HTTP_FILE_NAMES.has(path.posix.basename(relative)) || HTTP_FILES.has(relative) || HTTP_FOLDERS.some((folder) => relative.startsWith(folder));
const files = sourceFiles(SRC).map((file) => path.relative(SRC, file).split(path.sep).join('/'));

describe('the HTTP framework stays at the edge', () => {
  it('finds the source files and reads their imports', () => {
    expect(files).toContain('app.ts');
    expect(importsOf('app.ts').some(({ from }) => from === 'hono')).toBe(true);
  });

  it('is imported only by routes, pages, middleware, app.ts, main.ts, http/ and ui/', () => {
    const offenders = files.filter((file) => !mayImportHono(file) && importsOf(file).some(({ from }) => isHono(from)));
    expect(offenders, `these files import hono; move the HTTP part into a route, a middleware or http/`).toEqual([]);
  });

  it('keeps the request context out of the sign-in ceremonies', () => {
    const offenders = CEREMONIES.filter((file) => importsOf(file).some(({ statement, from }) => isHono(from) || /\bAppContext\b/.test(statement) || /(^|\/)http\/context\.js$/.test(from)));
    expect(offenders, 'these ceremonies take the HTTP context; pass plain values from the route instead').toEqual([]);
  });
});
