// tsc compiles only TypeScript; the files Warta reads at run time beside its
// modules (page CSS and scripts, the password blocklist) are copied here.
import { cpSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const assetExtensions = new Set(['.css', '.js', '.svg', '.txt', '.json', '.pem']);

function copyAssets(dir) {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) copyAssets(full);
    else if (assetExtensions.has(path.extname(name)) && (dir.includes(`${path.sep}static`) || name.endsWith('.txt') || name.endsWith('.pem'))) {
      const target = path.join(root, 'dist', path.relative(root, full));
      mkdirSync(path.dirname(target), { recursive: true });
      cpSync(full, target);
    }
  }
}

if (!existsSync(path.join(root, 'dist'))) throw new Error('run tsc first');
copyAssets(path.join(root, 'src'));
// The embedded database's first-start snapshot (`npm run snapshot`), when one was made.
for (const name of ['pglite-migrated.tar.gz', 'pglite-migrated.json']) {
  const source = path.join(root, 'src', 'db', name);
  if (existsSync(source)) cpSync(source, path.join(root, 'dist', 'src', 'db', name));
}
