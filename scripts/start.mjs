// `npm start`: the compiled build when it is current (what `npm ci` makes: the fast start),
// otherwise the TypeScript sources through tsx, so an edit is never served stale.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// The bundle (`npm run build`): a restart on the embedded database is then about half a second shorter.
const built = path.join(root, 'dist', 'bundle', 'main.js');

function newestChange(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestChange(full) : statSync(full).mtimeMs);
  }
  return newest;
}

const current = existsSync(built) && statSync(built).mtimeMs >= Math.max(...['src', 'migrations'].map((dir) => newestChange(path.join(root, dir))));
if (current) {
  await import(pathToFileURL(built).href);
} else {
  process.stderr.write('warta: running from the TypeScript sources (they changed since the last `npm run build`, which makes starts faster)\n');
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(path.join(root, 'src', 'main.ts')).href);
}
