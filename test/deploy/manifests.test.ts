/**
 * The deployment files as Kubernetes, CloudNativePG and Docker Compose would read
 * them, checked offline: every YAML document under deploy/kubernetes and
 * docker/compose.yml against the vendored schema of its kind (deploy/schemas/,
 * strict: an unknown field is an error, as `kubectl apply --validate=strict` makes
 * it), then the rules Warta's own security depends on.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parseAllDocuments, parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const kubernetesDir = path.join(root, 'deploy/kubernetes');

type Doc = Record<string, any>;
interface Manifest {
  file: string;
  doc: Doc;
}

const schema = (name: string) => JSON.parse(readFileSync(path.join(root, 'deploy/schemas', name), 'utf8'));
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
ajv.addSchema(schema('kubernetes.json'), 'kubernetes.json');
const validators: Record<string, ValidateFunction> = {
  'v1/Namespace': ajv.compile({ $ref: 'kubernetes.json#/definitions/Namespace' }),
  'v1/ConfigMap': ajv.compile({ $ref: 'kubernetes.json#/definitions/ConfigMap' }),
  'v1/Service': ajv.compile({ $ref: 'kubernetes.json#/definitions/Service' }),
  'apps/v1/Deployment': ajv.compile({ $ref: 'kubernetes.json#/definitions/Deployment' }),
  'batch/v1/Job': ajv.compile({ $ref: 'kubernetes.json#/definitions/Job' }),
  'policy/v1/PodDisruptionBudget': ajv.compile({ $ref: 'kubernetes.json#/definitions/PodDisruptionBudget' }),
  'networking.k8s.io/v1/NetworkPolicy': ajv.compile({ $ref: 'kubernetes.json#/definitions/NetworkPolicy' }),
  'networking.k8s.io/v1/Ingress': ajv.compile({ $ref: 'kubernetes.json#/definitions/Ingress' }),
  'postgresql.cnpg.io/v1/Cluster': ajv.compile(schema('cloudnative-pg-cluster.json')),
  'kustomize.config.k8s.io/v1beta1/Kustomization': ajv.compile(schema('kustomization.json')),
};
const validateCompose = ajv.compile(schema('compose.json'));

/** Every document of every YAML file, read as Kubernetes reads it (YAML 1.1: `0440` is octal). */
function loadKubernetesManifests(): Manifest[] {
  return readdirSync(kubernetesDir)
    .filter((file) => /\.ya?ml$/.test(file))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(path.join(kubernetesDir, file), 'utf8'), { version: '1.1' }).map((document) => {
        if (document.errors.length) throw new Error(`${file}: ${document.errors.map(String).join('; ')}`);
        return { file, doc: document.toJS() as Doc };
      }),
    );
}

function loadCompose(): Doc {
  return parse(readFileSync(path.join(root, 'docker/compose.yml'), 'utf8'), { merge: true }) as Doc;
}

const nginxConf = () => readFileSync(path.join(root, 'docker/nginx.conf'), 'utf8');

/** Schema errors, as `file kind: path message` lines; a kind without a schema is an error too. */
function schemaProblems(manifests: Manifest[]): string[] {
  return manifests.flatMap(({ file, doc }) => {
    const validate = validators[`${doc.apiVersion}/${doc.kind}`];
    if (!validate) return [`${file}: no schema for ${doc.apiVersion} ${doc.kind}`];
    const kind = String(doc.kind);
    return validate(doc) ? [] : (validate.errors ?? []).map((e) => `${file} ${kind}: ${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${e.params.additionalProperty})` : ''}`);
  });
}

const only = (manifests: Manifest[], kind: string): Doc[] => manifests.filter((m) => m.doc.kind === kind).map((m) => m.doc);

const imageIsPinned = (image: unknown) => typeof image === 'string' && (/@sha256:[0-9a-f]{64}$/.test(image) || /:[\w][\w.-]*$/.test(image.split('/').pop() ?? '')) && !/:latest$/.test(image);

/** The rules Warta's security and availability rest on, as a list of what is wrong. */
function wartaProblems(manifests: Manifest[]): string[] {
  const problems: string[] = [];
  const deployment = only(manifests, 'Deployment').find((d) => d.metadata.name === 'warta');
  const configMap = only(manifests, 'ConfigMap').find((c) => c.metadata.name === 'warta');
  const cluster = only(manifests, 'Cluster')[0];
  const pdb = only(manifests, 'PodDisruptionBudget')[0];
  if (!deployment || !configMap || !cluster || !pdb) return ['missing the warta Deployment, the warta ConfigMap, the CloudNativePG Cluster or the PodDisruptionBudget'];
  const settings: Record<string, string> = configMap.data ?? {};
  const pod = deployment.spec.template.spec;
  const container = pod.containers.find((c: Doc) => c.name === 'warta');
  const portNumber = (port: unknown) => (typeof port === 'number' ? port : container.ports?.find((p: Doc) => p.name === port)?.containerPort);

  const replicas = deployment.spec.replicas ?? 1;
  if (replicas < 2) problems.push(`replicas ${replicas}: one pod is a single point of failure`);
  if (deployment.spec.strategy?.rollingUpdate?.maxUnavailable !== 0) problems.push('rolling update must keep every pod until its replacement is ready (maxUnavailable: 0)');
  if (typeof pdb.spec.minAvailable !== 'number' || pdb.spec.minAvailable >= replicas) problems.push(`PodDisruptionBudget minAvailable ${pdb.spec.minAvailable} must be a number below replicas ${replicas}, or no node could ever be drained`);
  for (const [key, value] of Object.entries(pdb.spec.selector?.matchLabels ?? {}))
    if (deployment.spec.template.metadata.labels?.[key] !== value) problems.push('the PodDisruptionBudget does not select the Warta pods');

  const probes = { readinessProbe: '/readyz', livenessProbe: '/healthz', startupProbe: '/healthz' } as const;
  for (const [probe, expected] of Object.entries(probes)) {
    const get = container[probe]?.httpGet;
    if (get?.path !== expected) problems.push(`${probe} must GET ${expected}, not ${get?.path}`);
    if (portNumber(get?.port) !== 3000) problems.push(`${probe} must probe the public port 3000, not ${get?.port}`);
  }

  for (const image of [container.image, ...only(manifests, 'Job').flatMap((j) => j.spec.template.spec.containers.map((c: Doc) => c.image))])
    if (!imageIsPinned(image)) problems.push(`image ${image} must carry a version tag or digest, never :latest`);

  // Secrets never as literals: not in the ConfigMap, not in env values.
  for (const name of ['WARTA_MASTER_KEY', 'DATABASE_URL']) if (name in settings) problems.push(`${name} must not be in the ConfigMap`);
  const env: Doc[] = container.env ?? [];
  for (const variable of env) if (['WARTA_MASTER_KEY', 'DATABASE_URL', 'WARTA_MASTER_KEY_FILE'].includes(variable.name) && variable.value !== undefined) problems.push(`${variable.name} must not be a literal in the Deployment`);
  const keyFile = settings.WARTA_MASTER_KEY_FILE ?? env.find((v) => v.name === 'WARTA_MASTER_KEY_FILE')?.value;
  const keyMount = (container.volumeMounts ?? []).find((m: Doc) => typeof keyFile === 'string' && keyFile.startsWith(`${m.mountPath}/`));
  const keyVolume = pod.volumes?.find((v: Doc) => v.name === keyMount?.name);
  if (!keyVolume?.secret) problems.push(`WARTA_MASTER_KEY_FILE (${keyFile}) must be a file of a mounted Secret`);
  else if (keyVolume.secret.defaultMode === undefined || (keyVolume.secret.defaultMode & 0o007) !== 0) problems.push('the master key file must not be readable by others (defaultMode 0440 or stricter)');
  if (keyMount && keyMount.readOnly !== true) problems.push('the master key Secret must be mounted read-only');
  const databaseUrl = env.find((v) => v.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef;
  if (databaseUrl?.name !== `${cluster.metadata.name}-app` || databaseUrl?.key !== 'uri') problems.push(`DATABASE_URL must come from the CloudNativePG Secret ${cluster.metadata.name}-app, key uri`);

  if (settings.WARTA_TRUST_PROXY !== 'true') problems.push('behind the ingress controller WARTA_TRUST_PROXY must be "true" (else every client is the controller)');
  const metricsPort = Number(settings.WARTA_METRICS_PORT);
  if (portNumber('metrics') !== metricsPort) problems.push(`the container port "metrics" must be WARTA_METRICS_PORT (${metricsPort})`);
  if (Number(deployment.spec.template.metadata.annotations?.['prometheus.io/port']) !== metricsPort) problems.push('the prometheus.io/port annotation must name the management port');

  const podSecurity = pod.securityContext ?? {};
  const security = container.securityContext ?? {};
  if (podSecurity.runAsNonRoot !== true || security.runAsNonRoot !== true) problems.push('runAsNonRoot must be true');
  if (security.readOnlyRootFilesystem !== true) problems.push('readOnlyRootFilesystem must be true');
  if (security.allowPrivilegeEscalation !== false) problems.push('allowPrivilegeEscalation must be false');
  if (!security.capabilities?.drop?.includes('ALL')) problems.push('every capability must be dropped');
  if (podSecurity.seccompProfile?.type !== 'RuntimeDefault') problems.push('seccomp must be RuntimeDefault');
  if (!container.resources?.requests?.memory || !container.resources?.limits?.memory) problems.push('memory request and limit must be set');
  if (!container.lifecycle?.preStop) problems.push('a preStop pause must let the Service drop the pod before SIGTERM');

  if ((cluster.spec.instances ?? 1) < 2) problems.push('the CloudNativePG cluster needs a replica to fail over to');
  if (!cluster.spec.bootstrap?.initdb?.database || !cluster.spec.bootstrap?.initdb?.owner) problems.push('the CloudNativePG cluster must bootstrap the warta database and owner');

  const policy = only(manifests, 'NetworkPolicy')[0];
  const ingressPorts = (policy?.spec.ingress ?? []).flatMap((rule: Doc) => (rule.ports ?? []).map((p: Doc) => p.port));
  if (!policy?.spec.policyTypes?.includes('Egress') || ingressPorts.some((port: unknown) => port !== 3000 && port !== metricsPort)) problems.push('the NetworkPolicy must limit ingress to ports 3000 and the management port, and egress');
  return problems;
}

/** The compose file's two replicas behind nginx, as a list of what is wrong. */
function composeProblems(compose: Doc, nginx: string): string[] {
  const problems: string[] = [];
  const replicas = ['warta-1', 'warta-2'].map((name) => compose.services?.[name] as Doc | undefined);
  if (replicas.some((r) => !r)) return ['compose must have the services warta-1 and warta-2'];
  const [one, two] = replicas as Doc[];
  for (const key of ['image', 'DATABASE_URL', 'WARTA_MASTER_KEY_FILE', 'WARTA_ISSUER'] as const) {
    const of = (r: Doc) => (key === 'image' ? r.image : r.environment?.[key]);
    if (of(one!) === undefined || of(one!) !== of(two!)) problems.push(`warta-1 and warta-2 must share ${key}`);
  }
  for (const [name, replica] of [['warta-1', one!], ['warta-2', two!]] as const) {
    const env = replica.environment ?? {};
    if (env.WARTA_TRUST_PROXY !== 'true') problems.push(`${name}: WARTA_TRUST_PROXY must be "true" behind nginx`);
    if ('WARTA_MASTER_KEY' in env) problems.push(`${name}: the master key must be a secret file, not WARTA_MASTER_KEY`);
    if (!replica.secrets?.includes('warta_master_key')) problems.push(`${name}: must mount the warta_master_key secret`);
    if (replica.ports?.length) problems.push(`${name}: must publish no port (only nginx may reach it, or X-Forwarded-For could be forged)`);
    if (!imageIsPinned(replica.image)) problems.push(`${name}: image ${replica.image} must carry a version tag`);
  }
  const upstream = /upstream\s+warta\s*\{([^}]*)\}/.exec(nginx)?.[1] ?? '';
  const servers = [...upstream.matchAll(/^\s*server\s+([^\s;]+)/gm)].map((m) => m[1]);
  if (!servers.includes('warta-1:3000') || !servers.includes('warta-2:3000')) problems.push(`the nginx upstream must list warta-1:3000 and warta-2:3000, not ${servers.join(', ')}`);
  const active = nginx.split('\n').filter((line) => !line.trim().startsWith('#')).join('\n');
  for (const header of [/proxy_set_header\s+X-Forwarded-For\s+\$proxy_add_x_forwarded_for;/, /proxy_set_header\s+Host\s+\$host;/, /proxy_set_header\s+X-Forwarded-Proto\s+\$scheme;/])
    if (!header.test(active)) problems.push(`nginx.conf must set ${header.source}`);
  if (!compose.services?.nginx) problems.push('compose must have the nginx service');
  return problems;
}

describe('Kubernetes manifests', () => {
  const manifests = loadKubernetesManifests();

  it('are all of a kind with a schema, and valid against it', () => {
    expect(manifests.map((m) => `${m.file} ${m.doc.kind}`).sort()).toEqual([
      'bootstrap-job.yaml Job',
      'configmap.yaml ConfigMap',
      'deployment.yaml Deployment',
      'ingress.yaml Ingress',
      'kustomization.yaml Kustomization',
      'namespace.yaml Namespace',
      'networkpolicy.yaml NetworkPolicy',
      'poddisruptionbudget.yaml PodDisruptionBudget',
      'postgres-cluster.yaml Cluster',
      'service.yaml Service',
    ]);
    expect(schemaProblems(manifests)).toEqual([]);
  });

  it('keep Warta available, its secrets out of plain sight and its probes on the right endpoints', () => {
    expect(wartaProblems(manifests)).toEqual([]);
  });

  it('list every manifest but the one-off Job in the kustomization', () => {
    const kustomization = only(manifests, 'Kustomization')[0]!;
    const files = [...new Set(manifests.map((m) => m.file))].filter((f) => f !== 'kustomization.yaml' && f !== 'bootstrap-job.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
  });

  it('rejects a misspelt field, a field in the wrong place and a wrong type', () => {
    const mutate = (edit: (docs: Manifest[]) => void) => {
      const copy = structuredClone(manifests);
      edit(copy);
      return schemaProblems(copy);
    };
    const container = (docs: Manifest[]) => docs.find((m) => m.doc.kind === 'Deployment')!.doc.spec.template.spec.containers[0];
    expect(mutate((docs) => (container(docs).readinessProbe.httpGet.paht = '/readyz'))).toContainEqual(expect.stringContaining('(paht)'));
    expect(mutate((docs) => (container(docs).securityContext.runAsNonroot = true))).toContainEqual(expect.stringContaining('(runAsNonroot)'));
    expect(mutate((docs) => (docs.find((m) => m.doc.kind === 'Deployment')!.doc.spec.replicas = '3'))).toContainEqual(expect.stringContaining('/spec/replicas must be integer'));
    expect(mutate((docs) => (docs.find((m) => m.doc.kind === 'Cluster')!.doc.spec.bootstrap.initdb.databse = 'warta'))).toContainEqual(expect.stringContaining('(databse)'));
    expect(mutate((docs) => docs.push({ file: 'extra.yaml', doc: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' } } }))).toEqual(['extra.yaml: no schema for v1 Pod']);
  });

  const breaks: [string, (docs: Manifest[]) => void, RegExp][] = [
    ['readiness on /healthz', (docs) => (deploymentContainer(docs).readinessProbe.httpGet.path = '/healthz'), /readinessProbe must GET \/readyz/],
    ['liveness on the management port', (docs) => (deploymentContainer(docs).livenessProbe.httpGet.port = 'metrics'), /livenessProbe must probe the public port 3000/],
    ['the master key as an env literal', (docs) => deploymentContainer(docs).env.push({ name: 'WARTA_MASTER_KEY', value: 'c2VjcmV0' }), /WARTA_MASTER_KEY must not be a literal/],
    ['the master key file outside a Secret', (docs) => (configMapOf(docs).data.WARTA_MASTER_KEY_FILE = '/var/lib/warta/master.key'), /must be a file of a mounted Secret/],
    ['DATABASE_URL as a literal', (docs) => (deploymentContainer(docs).env[0] = { name: 'DATABASE_URL', value: 'postgres://warta:pw@db/warta' }), /DATABASE_URL must not be a literal/],
    ['DATABASE_URL from another Secret', (docs) => (deploymentContainer(docs).env[0].valueFrom.secretKeyRef.name = 'warta-db-superuser'), /DATABASE_URL must come from the CloudNativePG Secret warta-db-app/],
    ['one replica', (docs) => (deploymentOf(docs).spec.replicas = 1), /replicas 1/],
    ['a PDB that blocks every drain', (docs) => (docs.find((m) => m.doc.kind === 'PodDisruptionBudget')!.doc.spec.minAvailable = 3), /minAvailable 3 must be a number below replicas 3/],
    ['an image on :latest', (docs) => (deploymentContainer(docs).image = 'registry.example.gov/warta:latest'), /never :latest/],
    ['an untagged image', (docs) => (deploymentContainer(docs).image = 'registry.example.gov/warta'), /never :latest/],
    ['no proxy trust behind the ingress', (docs) => delete configMapOf(docs).data.WARTA_TRUST_PROXY, /WARTA_TRUST_PROXY must be "true"/],
    ['a writable root filesystem', (docs) => (deploymentContainer(docs).securityContext.readOnlyRootFilesystem = false), /readOnlyRootFilesystem/],
  ];
  it.each(breaks)('flags %s', (_name, edit, expected) => {
    const copy = structuredClone(manifests);
    edit(copy);
    expect(schemaProblems(copy)).toEqual([]);
    expect(wartaProblems(copy)).toContainEqual(expect.stringMatching(expected));
  });
});

function deploymentOf(docs: Manifest[]): Doc {
  return docs.find((m) => m.doc.kind === 'Deployment')!.doc;
}
function deploymentContainer(docs: Manifest[]): Doc {
  return deploymentOf(docs).spec.template.spec.containers[0];
}
function configMapOf(docs: Manifest[]): Doc {
  return docs.find((m) => m.doc.kind === 'ConfigMap')!.doc;
}

describe('docker/compose.yml', () => {
  const compose = loadCompose();

  it('is a valid compose file', () => {
    expect(validateCompose(compose), JSON.stringify(validateCompose.errors)).toBe(true);
  });

  it('runs two replicas sharing the database and master key behind nginx, which lists both', () => {
    expect(composeProblems(compose, nginxConf())).toEqual([]);
  });

  it('rejects a misspelt service field', () => {
    const copy = structuredClone(compose);
    copy.services['warta-1'].enviroment = {};
    expect(validateCompose(copy)).toBe(false);
  });

  const breaks: [string, (compose: Doc) => void, (nginx: string) => string, RegExp][] = [
    ['an upstream with one replica', () => {}, (nginx) => nginx.replace(/^\s*server warta-2:3000;\n/m, ''), /upstream must list warta-1:3000 and warta-2:3000/],
    ['a replica without proxy trust', (c) => (c.services['warta-2'].environment.WARTA_TRUST_PROXY = 'false'), (n) => n, /warta-2: WARTA_TRUST_PROXY must be "true"/],
    ['a replica with its own port', (c) => (c.services['warta-1'].ports = ['3000:3000']), (n) => n, /warta-1: must publish no port/],
    ['replicas on different databases', (c) => (c.services['warta-2'].environment = { ...c.services['warta-2'].environment, DATABASE_URL: 'postgres://other' }), (n) => n, /share DATABASE_URL/],
    ['X-Forwarded-For passed through from the client', () => {}, (n) => n.replace(/\$proxy_add_x_forwarded_for/g, '$http_x_forwarded_for'), /X-Forwarded-For/],
  ];
  it.each(breaks)('flags %s', (_name, edit, editNginx, expected) => {
    const copy = structuredClone(compose);
    edit(copy);
    expect(composeProblems(copy, editNginx(nginxConf()))).toContainEqual(expect.stringMatching(expected));
  });
});
