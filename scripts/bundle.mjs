// The server as a few files instead of a thousand: Node 20 spends most of a restart
// resolving and reading modules one by one (docs/operations.md, "Start-up").
// Each source file that finds files beside itself (page assets, the blocklist, the
// snapshot) keeps finding them: its import.meta.url is rewritten to where that file's
// compiled twin sits under `assetRoot`.
import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');

/** Packages loaded from node_modules as they are: native addons, WebAssembly with files of its own. */
const EXTERNAL = ['argon2', 'pkcs11js', '@electric-sql/pglite', 'pg-native'];

function keepFileLocations(outdir, assetRoot) {
  return {
    name: 'keep-file-locations',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async (args) => {
        let contents = await readFile(args.path, 'utf8');
        if (contents.includes('import.meta.url') && args.path.startsWith(root + path.sep)) {
          const twin = path.join(assetRoot, path.relative(root, args.path)).replace(/\.ts$/, '.js');
          const relative = path.relative(outdir, twin).split(path.sep).join('/');
          contents = contents.replaceAll('import.meta.url', `new URL(${JSON.stringify(relative)}, import.meta.url).href`);
        }
        return { contents, loader: 'ts' };
      });
    },
  };
}

/**
 * Bundles src/main.ts into `outdir`. `assetRoot` holds the files the modules read beside
 * themselves, laid out as the repository is: `dist` after `npm run build`, or the repository itself.
 */
export async function bundleWarta({ outdir = path.join(root, 'dist', 'bundle'), assetRoot = path.join(root, 'dist') } = {}) {
  // Chunks are named by content: an earlier build's would stay beside the new ones.
  rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: { main: path.join(root, 'src', 'main.ts') },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: EXTERNAL,
    // CommonJS dependencies bundled into ESM still call require() for Node's own modules.
    banner: { js: "import { createRequire as __wartaCreateRequire } from 'node:module'; const require = __wartaCreateRequire(import.meta.url);" },
    chunkNames: 'chunk-[hash]',
    sourcemap: 'linked',
    logLevel: 'warning',
    plugins: [keepFileLocations(outdir, assetRoot)],
  });
  return pathToFileURL(path.join(outdir, 'main.js'));
}

// `node scripts/bundle.mjs [outdir assetRoot]`: the tests bundle into a folder of their own, beside the sources.
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [outdir, assetRoot] = process.argv.slice(2).map((arg) => path.resolve(arg));
  await bundleWarta(outdir === undefined ? {} : { outdir, assetRoot: assetRoot ?? root });
}
