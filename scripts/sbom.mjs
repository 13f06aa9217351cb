// Writes a CycloneDX SBOM of Warta's production tree to dist/sbom.cdx.json (or --out PATH);
// --omit-optional leaves out the optional dependencies too (the Docker image without the embedded database).
//
// npm makes the document (`npm sbom`, from package-lock.json, so it describes what `npm ci`
// installs whatever node_modules holds now). Its own `--omit dev` is not used: it also drops a
// production package whenever a development dependency uses it too (npm/cli#7909: here jose,
// pg-types, @peculiar/x509 and their dependencies would go missing). Instead the components are
// kept that the SBOM's own dependency graph reaches from package.json's dependencies and
// optionalDependencies (the embedded database, which the Docker image leaves out unless asked).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const outIndex = process.argv.indexOf('--out');
const out = outIndex > 0 ? path.resolve(process.argv[outIndex + 1]) : path.join(root, 'dist', 'sbom.cdx.json');

const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const bom = JSON.parse(
  execFileSync(npm, ['sbom', '--sbom-format', 'cyclonedx', '--sbom-type', 'application', '--package-lock-only'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }),
);

const withOptional = !process.argv.includes('--omit-optional');
const production = new Set([...Object.keys(pkg.dependencies ?? {}), ...(withOptional ? Object.keys(pkg.optionalDependencies ?? {}) : [])]);
const rootRef = bom.metadata.component['bom-ref'];
const dependsOn = new Map(bom.dependencies.map((d) => [d.ref, d.dependsOn ?? []]));
const nameOf = new Map(bom.components.map((c) => [c['bom-ref'], c.group ? `${c.group}/${c.name}` : c.name]));

const reached = new Set();
const queue = (dependsOn.get(rootRef) ?? []).filter((ref) => production.has(nameOf.get(ref)));
if (queue.length !== production.size) throw new Error(`the SBOM lacks production dependencies: found ${queue.length} of ${production.size}`);
while (queue.length > 0) {
  const ref = queue.shift();
  if (reached.has(ref)) continue;
  reached.add(ref);
  queue.push(...(dependsOn.get(ref) ?? []));
}

// npm names the root after the folder it runs in (a clone or worktree's name); the package's name is the truth.
bom.metadata.component.name = pkg.name;
bom.components = bom.components.filter((c) => reached.has(c['bom-ref']));
bom.dependencies = bom.dependencies
  .filter((d) => d.ref === rootRef || reached.has(d.ref))
  .map((d) => (d.ref === rootRef ? { ...d, dependsOn: d.dependsOn.filter((ref) => reached.has(ref)) } : d));

mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(bom, null, 2)}\n`);
process.stdout.write(`${path.relative(process.cwd(), out)}: ${bom.components.length} production components\n`);
