import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };

/**
 * Static assets, all served by Warta itself (no CDN). Files are read once at
 * start-up: the set is small and fixed, and no request can name a path outside it.
 */
export function staticRoutes() {
  const files = new Map<string, { body: string; type: string }>();
  const staticDir = path.join(here, 'static');
  for (const name of ['warta.css', ...listScripts(staticDir)]) files.set(name, { body: readFileSync(path.join(staticDir, name), 'utf8'), type: TYPES[path.extname(name)]! });
  const browserBundle = path.join(path.dirname(require.resolve('@simplewebauthn/browser')), '../dist/bundle/index.umd.min.js');
  files.set('vendor/simplewebauthn-browser.js', { body: readFileSync(browserBundle, 'utf8'), type: TYPES['.js']! });

  const app = new Hono();
  app.get('/static/*', (c) => {
    const file = files.get(c.req.path.slice('/static/'.length));
    if (!file) return c.json({ error: 'not_found', error_description: 'no such file' }, 404);
    c.header('Content-Type', file.type);
    c.header('Cache-Control', 'public, max-age=300');
    return c.body(file.body);
  });
  return app;
}

function listScripts(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith('.js') || name.endsWith('.svg'));
}
