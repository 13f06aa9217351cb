import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string>; optionalDependencies?: Record<string, string>; devDependencies: Record<string, string> };
const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; dev?: boolean }> };

interface Component { 'bom-ref': string; group?: string; name: string; version: string; purl: string }
const fullName = (c: Component) => (c.group ? `${c.group}/${c.name}` : c.name);

describe('npm run sbom', () => {
  const folder = mkdtempSync(path.join(tmpdir(), 'warta-sbom-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));
  const out = path.join(folder, 'sbom.cdx.json');
  execFileSync(process.execPath, [path.join(root, 'scripts/sbom.mjs'), '--out', out], { cwd: root, stdio: 'pipe' });
  const bom = JSON.parse(readFileSync(out, 'utf8')) as { bomFormat: string; specVersion: string; metadata: { component: { name: string; version: string; type: string } }; components: Component[] };
  const names = new Set(bom.components.map(fullName));

  it('writes a CycloneDX document describing Warta as an application', () => {
    expect(bom.bomFormat).toBe('CycloneDX');
    expect(bom.specVersion).toMatch(/^1\.\d+$/);
    expect(bom.metadata.component).toMatchObject({ name: pkg.name, version: pkg.version, type: 'application' });
  });

  it('lists every production dependency, including those a development tool uses too', () => {
    for (const name of [...Object.keys(pkg.dependencies), ...Object.keys(pkg.optionalDependencies ?? {})]) expect(names, name).toContain(name);
    // Shared with development dependencies (openid-client, @peculiar/x509): npm's own --omit dev drops these.
    for (const name of ['jose', 'pg-types', '@peculiar/x509']) expect(names, name).toContain(name);
  });

  it('lists no development-only package: every component is one npm ci installs without --omit=dev marking it dev', () => {
    for (const name of Object.keys(pkg.devDependencies)) {
      if (lock.packages[`node_modules/${name}`]?.dev) expect(names, name).not.toContain(name);
    }
    for (const component of bom.components) {
      const installed = Object.entries(lock.packages).filter(([at, entry]) => at.endsWith(`node_modules/${fullName(component)}`) && entry.version === component.version);
      expect(installed.length, component['bom-ref']).toBeGreaterThan(0);
      expect(installed.some(([, entry]) => !entry.dev), `${component['bom-ref']} is development-only`).toBe(true);
    }
  });

  it('leaves out the optional embedded database with --omit-optional, as the default Docker image does', () => {
    expect(Object.keys(pkg.optionalDependencies ?? {})).toContain('@electric-sql/pglite');
    const withoutOptional = path.join(folder, 'sbom-without-optional.cdx.json');
    execFileSync(process.execPath, [path.join(root, 'scripts/sbom.mjs'), '--out', withoutOptional, '--omit-optional'], { cwd: root, stdio: 'pipe' });
    const lean = new Set((JSON.parse(readFileSync(withoutOptional, 'utf8')) as { components: Component[] }).components.map(fullName));
    expect(names).toContain('@electric-sql/pglite');
    expect(lean).not.toContain('@electric-sql/pglite');
    for (const name of Object.keys(pkg.dependencies)) expect(lean, name).toContain(name);
  });
});
