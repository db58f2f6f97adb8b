// The Helm chart (deploy/helm/mlcost), rendered by the real helm (built from its Go module by
// test/setup/setup-test-tools.sh) for every ci/*-values.yaml variant and checked offline:
//  - `helm lint --strict` and `helm template` succeed, and every rendered object passes mlcost-validate (strict
//    decoding into the Kubernetes 1.37 API types and the Prometheus operator's types, plus the API server's
//    own checks on names, labels, selectors and volume mounts; deploy/validate);
//  - the configuration each container gets is accepted by mlcost's own configuration loader;
//  - RBAC is least privilege (no nodes/proxy, no secrets, no wildcards; exactly the rules the agent's sources
//    need), the collector meets the Pod Security Standard "restricted", the agent asks for nothing beyond what
//    its documented sources need, images are pinned and every container has resources;
//  - each switch adds and removes exactly its own objects, and bad values are refused by values.schema.json
//    with a message naming the value;
//  - the PrometheusRules and dashboard ConfigMaps hold exactly the bytes of alerts/*.rules.yaml and
//    dashboards/*.json, and the install commands in the READMEs render as written.
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isMap,
  isScalar,
  parseAllDocuments,
  parseDocument,
  parse as parseYaml,
  type Node as YamlNode,
} from 'yaml';
import { loadConfig } from '../core/config/load.ts';
import { REPO_ROOT, requireTool } from './support/mlcost-process.ts';

const CHART = join(REPO_ROOT, 'deploy', 'helm', 'mlcost');
const HELM = join(REPO_ROOT, '.tools', 'bin', 'helm');
const VALIDATE = join(REPO_ROOT, '.tools', 'bin', 'mlcost-validate');
const RELEASE = 'mlcost';
const NAMESPACE = 'mlcost';
const VARIANTS = readdirSync(join(CHART, 'ci'))
  .filter((name) => name.endsWith('-values.yaml'))
  .sort();

// ---------------------------------------------------------------------------------------------------------------
// The shapes read from rendered manifests (only the fields the tests look at).

interface Metadata {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: Metadata;
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  rules?: PolicyRule[];
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
}
interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}
interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  fsGroup?: number;
  allowPrivilegeEscalation?: boolean;
  readOnlyRootFilesystem?: boolean;
  privileged?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type: string };
  appArmorProfile?: { type: string };
  seLinuxOptions?: { type?: string };
  procMount?: string;
  windowsOptions?: { hostProcess?: boolean };
  sysctls?: { name: string; value: string }[];
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    secretKeyRef?: { name: string; key: string };
  };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number; hostPort?: number }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: SecurityContext;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface Volume {
  name: string;
  hostPath?: { path: string; type?: string };
  emptyDir?: { sizeLimit?: string };
  persistentVolumeClaim?: { claimName: string };
  projected?: {
    sources: { serviceAccountToken?: { audience?: string; expirationSeconds?: number; path: string } }[];
  };
  [source: string]: unknown;
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  securityContext?: SecurityContext;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  runtimeClassName?: string;
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  tolerations?: { key?: string; operator?: string; effect?: string; value?: string }[];
  nodeSelector?: Record<string, string>;
}
interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: PodSpec;
}

// ---------------------------------------------------------------------------------------------------------------
// Running helm and the validator.

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd = REPO_ROOT, input?: string): Run {
  const result = spawnSync(command, args, {
    cwd,
    input,
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 64 * 2 ** 20,
    // helm reads and writes nothing of the user's: its homes are in the test's temporary folder.
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: work,
      HELM_CACHE_HOME: join(work, 'helm-cache'),
      HELM_CONFIG_HOME: join(work, 'helm-config'),
      HELM_DATA_HOME: join(work, 'helm-data'),
    },
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function helm(args: string[], cwd = REPO_ROOT): Run {
  return run(requireTool(HELM, 'helm'), args, cwd);
}

interface RenderOptions {
  /** values files, relative to the chart's ci/ folder unless absolute */
  values?: string[];
  /** --set key=value */
  set?: string[];
  /** --set-json key=json */
  setJson?: string[];
  chart?: string;
  release?: string;
}

interface Rendered {
  text: string;
  objects: K8sObject[];
}

function templateArgs(options: RenderOptions): string[] {
  const args = ['template', options.release ?? RELEASE, options.chart ?? CHART, '--namespace', NAMESPACE];
  for (const file of options.values ?? [])
    args.push('-f', file.startsWith('/') ? file : join(CHART, 'ci', file));
  for (const set of options.set ?? []) args.push('--set', set);
  for (const set of options.setJson ?? []) args.push('--set-json', set);
  return args;
}

const renderCache = new Map<string, Rendered>();
function render(options: RenderOptions = {}): Rendered {
  const args = templateArgs(options);
  const key = JSON.stringify(args);
  const cached = renderCache.get(key);
  if (cached) return cached;
  const result = helm(args);
  if (result.status !== 0) throw new Error(`helm ${args.join(' ')} failed:\n${result.stderr}`);
  const objects = parseAllDocuments(result.stdout)
    .map((document) => document.toJS() as K8sObject | null)
    .filter((object): object is K8sObject => object !== null && typeof object === 'object');
  const rendered = { text: result.stdout, objects };
  renderCache.set(key, rendered);
  return rendered;
}

interface ValidationResult {
  kind: string;
  name: string;
  errors: string[];
}
function validate(manifests: string): ValidationResult[] {
  const result = run(requireTool(VALIDATE, 'mlcost-validate'), ['-json'], REPO_ROOT, manifests);
  if (result.status !== 0 && result.status !== 1) throw new Error(`mlcost-validate failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as ValidationResult[];
}

const id = (object: K8sObject) => `${object.kind}/${object.metadata.name}`;
const ids = (rendered: Rendered) => rendered.objects.map(id).sort();

function find(rendered: Rendered, kind: string, name: string): K8sObject {
  const object = rendered.objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!object) throw new Error(`no ${kind}/${name} among ${ids(rendered).join(', ')}`);
  return object;
}
function podTemplate(object: K8sObject): PodTemplate {
  return (object.spec as { template: PodTemplate }).template;
}
function workloads(rendered: Rendered): K8sObject[] {
  return rendered.objects.filter((o) => ['Deployment', 'DaemonSet', 'StatefulSet', 'Job'].includes(o.kind));
}
function container(object: K8sObject, name: string): Container {
  const found = podTemplate(object).spec.containers.find((c) => c.name === name);
  if (!found) throw new Error(`no container ${name} in ${id(object)}`);
  return found;
}
function env(c: Container, name: string): EnvVar | undefined {
  return c.env?.find((e) => e.name === name);
}
const agentOf = (rendered: Rendered) => find(rendered, 'DaemonSet', 'mlcost-agent');
const collectorOf = (rendered: Rendered) => find(rendered, 'Deployment', 'mlcost-collector');

// ---------------------------------------------------------------------------------------------------------------
// Pod Security Standards (kubernetes.io/docs/concepts/security/pod-security-standards), as a list of what a pod
// does that the level forbids. The effective value of a container field is the container's, else the pod's.

const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);
const RESTRICTED_VOLUMES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);

function podSecurityViolations(spec: PodSpec, level: 'baseline' | 'restricted'): string[] {
  const out: string[] = [];
  const pod = spec.securityContext ?? {};
  if (spec.hostNetwork) out.push('hostNetwork');
  if (spec.hostPID) out.push('hostPID');
  if (spec.hostIPC) out.push('hostIPC');
  for (const sysctl of pod.sysctls ?? [])
    if (!SAFE_SYSCTLS.has(sysctl.name)) out.push(`sysctl ${sysctl.name}`);
  if (pod.seccompProfile?.type === 'Unconfined') out.push('pod seccomp Unconfined');
  for (const volume of spec.volumes ?? []) {
    const source = Object.keys(volume).find((key) => key !== 'name') ?? '';
    if (source === 'hostPath') out.push(`hostPath volume ${volume.name}`);
    else if (level === 'restricted' && !RESTRICTED_VOLUMES.has(source))
      out.push(`${source} volume ${volume.name}`);
  }
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    const sc = c.securityContext ?? {};
    const where = `container ${c.name}`;
    if (sc.privileged) out.push(`${where} privileged`);
    if (sc.windowsOptions?.hostProcess) out.push(`${where} hostProcess`);
    for (const cap of sc.capabilities?.add ?? [])
      if (!BASELINE_CAPABILITIES.has(cap)) out.push(`${where} adds ${cap}`);
    for (const port of c.ports ?? []) if (port.hostPort) out.push(`${where} hostPort ${port.hostPort}`);
    if (sc.procMount && sc.procMount !== 'Default') out.push(`${where} procMount ${sc.procMount}`);
    if ((sc.appArmorProfile ?? pod.appArmorProfile)?.type === 'Unconfined') out.push(`${where} AppArmor off`);
    const seLinuxType = (sc.seLinuxOptions ?? pod.seLinuxOptions)?.type;
    if (
      seLinuxType &&
      !['container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'].includes(seLinuxType)
    )
      out.push(`${where} SELinux type ${seLinuxType}`);
    const seccomp = (sc.seccompProfile ?? pod.seccompProfile)?.type;
    if (seccomp === 'Unconfined') out.push(`${where} seccomp Unconfined`);
    if (level === 'baseline') continue;
    if (sc.allowPrivilegeEscalation !== false) out.push(`${where} allowPrivilegeEscalation not false`);
    if ((sc.runAsNonRoot ?? pod.runAsNonRoot) !== true) out.push(`${where} runAsNonRoot not true`);
    if ((sc.runAsUser ?? pod.runAsUser) === 0) out.push(`${where} runAsUser 0`);
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') out.push(`${where} seccomp not set`);
    if (!sc.capabilities?.drop?.includes('ALL')) out.push(`${where} does not drop ALL`);
    for (const cap of sc.capabilities?.add ?? [])
      if (cap !== 'NET_BIND_SERVICE') out.push(`${where} adds ${cap} (restricted)`);
  }
  return out.sort();
}

// ---------------------------------------------------------------------------------------------------------------

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'mlcost-helm-'));
  requireTool(HELM, 'helm');
  requireTool(VALIDATE, 'mlcost-validate');
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** A copy of the chart in the temporary folder, to add files the real chart must not hold. */
function chartCopy(name: string): string {
  const copy = join(work, name, 'mlcost');
  cpSync(CHART, copy, { recursive: true });
  return copy;
}

describe('the tools', () => {
  it('are the pinned helm and a validator that refuses what the API server refuses', () => {
    expect(helm(['version', '--short']).stdout.trim()).toBe('v3.22.0');
    // The validator must fail on the faults it exists for, or its passes below would mean nothing.
    const bad = [
      'apiVersion: apps/v1',
      'kind: DaemonSet',
      'metadata: {name: x, namespace: ns}',
      'spec:',
      '  selector: {matchLabels: {a: b}}',
      '  template:',
      '    metadata: {labels: {a: c}}',
      '    spec:',
      '      containers: [{name: c, image: i, securityContex: {}}]',
      '---',
      'apiVersion: monitoring.coreos.com/v1',
      'kind: ServiceMonitor',
      'metadata: {name: sm, namespace: ns}',
      'spec: {selector: {}, endpoints: [{port: http, interval: 30 seconds}]}',
      '---',
      'apiVersion: v1',
      'kind: Service',
      'metadata: {name: z, namespace: ns}',
      'spec: {ports: [{port: "8080"}]}',
    ].join('\n');
    const results = validate(bad);
    expect(results.map((r) => [r.kind, r.errors.length > 0])).toEqual([
      ['DaemonSet', true],
      ['ServiceMonitor', true],
      ['Service', true],
    ]);
    const daemonSet = results[0]!.errors.join('\n');
    expect(daemonSet).toMatch(/unknown field "spec.template.spec.containers\[0\].securityContex"/);
    expect(daemonSet).toMatch(/selector.*does not match template/);
    expect(results[1]!.errors.join('\n')).toMatch(/interval.*Prometheus duration/);
    expect(results[2]!.errors.join('\n')).toMatch(/cannot unmarshal string/);
  });
});

describe.each(VARIANTS)('ci/%s', (variant) => {
  it('passes helm lint --strict', () => {
    const result = helm([
      'lint',
      CHART,
      '--strict',
      '--namespace',
      NAMESPACE,
      '-f',
      join(CHART, 'ci', variant),
    ]);
    expect(result.stderr + result.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(result.status).toBe(0);
  });

  it('renders objects that are all valid for Kubernetes 1.37 (offline strict validation)', () => {
    const rendered = render({ values: [variant] });
    expect(rendered.objects.length).toBeGreaterThanOrEqual(9);
    const results = validate(rendered.text);
    expect(results.map((r) => `${r.kind}/${r.name}`).sort()).toEqual(ids(rendered));
    expect(results.filter((r) => r.errors.length > 0)).toEqual([]);
    for (const object of rendered.objects) {
      if (!object.kind.startsWith('Cluster')) expect(object.metadata.namespace, id(object)).toBe(NAMESPACE);
    }
  });

  it("gives every container a configuration mlcost's own loader accepts", () => {
    const rendered = render({ values: [variant] });
    for (const workload of workloads(rendered)) {
      for (const c of podTemplate(workload).spec.containers) {
        const variables: Record<string, string> = {};
        for (const e of c.env ?? []) {
          if (e.value !== undefined) variables[e.name] = e.value;
          else if (e.valueFrom?.fieldRef)
            variables[e.name] =
              e.valueFrom.fieldRef.fieldPath === 'status.hostIP' ? '10.0.0.7' : 'gpu-node-1';
          else if (e.valueFrom?.secretKeyRef) {
            const { name, key } = e.valueFrom.secretKeyRef;
            const secret = find(rendered, 'Secret', name);
            expect(Object.keys(secret.data ?? {}), `${id(workload)} reads ${name}/${key}`).toContain(key);
            variables[e.name] = Buffer.from(secret.data![key]!, 'base64').toString('utf8');
          } else throw new Error(`${id(workload)}: env ${e.name} has neither value nor a known valueFrom`);
        }
        expect(() => loadConfig({ env: variables, flags: {} }), `${id(workload)}/${c.name}`).not.toThrow();
        const config = loadConfig({ env: variables, flags: {} });
        if (c.args?.[0] === 'collector') {
          expect(config.collector.listen).toBe('0.0.0.0:8080');
          // runCollector refuses an empty token on a non-loopback address in token mode.
          if (config.collector.auth.mode === 'token')
            expect(config.collector.ingestToken).toMatch(/^.{32,}$/);
        } else {
          expect(c.args).toEqual(['agent']);
          expect(config.agent.collectorUrl).toBe('http://mlcost-collector.mlcost.svc:8080');
          const service = find(rendered, 'Service', 'mlcost-collector');
          expect((service.spec as { ports: { port: number }[] }).ports[0]!.port).toBe(8080);
          expect(config.dataDir).toBe('/var/lib/mlcost');
        }
      }
    }
  });

  it('grants least privilege: no nodes/proxy, no secrets, no wildcards, only the rules the sources need', () => {
    const rendered = render({ values: [variant] });
    const roles = rendered.objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role');
    for (const role of roles) {
      for (const rule of role.rules ?? []) {
        const where = `${id(role)} ${JSON.stringify(rule)}`;
        expect(rule.verbs, where).not.toContain('*');
        expect(rule.resources ?? [], where).not.toContain('*');
        expect(rule.apiGroups ?? [], where).not.toContain('*');
        expect(rule.resources ?? [], where).not.toContain('secrets');
        expect(rule.resources ?? [], where).not.toContain('nodes/proxy');
        expect(rule.resources ?? [], where).not.toContain('pods/exec');
        expect(rule.nonResourceURLs, where).toBeUndefined();
        for (const verb of [
          'create',
          'update',
          'patch',
          'delete',
          'deletecollection',
          'escalate',
          'bind',
          'impersonate',
        ])
          if (!(role.metadata.name === 'mlcost-collector' && verb === 'create'))
            expect(rule.verbs, where).not.toContain(verb);
      }
    }
    const read = ['get', 'list', 'watch'];
    expect(find(rendered, 'ClusterRole', 'mlcost-agent').rules).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
      { apiGroups: [''], resources: ['nodes'], verbs: read },
      { apiGroups: [''], resources: ['nodes/stats'], verbs: ['get'] },
      { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list'] },
      {
        apiGroups: ['apps'],
        resources: ['replicasets', 'deployments', 'statefulsets', 'daemonsets'],
        verbs: ['get', 'list'],
      },
      { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: ['get', 'list'] },
      {
        apiGroups: ['kubeflow.org'],
        resources: ['pytorchjobs', 'tfjobs', 'mpijobs', 'xgboostjobs', 'jaxjobs', 'paddlejobs'],
        verbs: read,
      },
      { apiGroups: ['trainer.kubeflow.org'], resources: ['trainjobs'], verbs: read },
      { apiGroups: ['jobset.x-k8s.io'], resources: ['jobsets'], verbs: read },
      { apiGroups: ['serving.kserve.io'], resources: ['inferenceservices'], verbs: read },
      { apiGroups: ['serving.knative.dev'], resources: ['services', 'revisions'], verbs: read },
      { apiGroups: ['ray.io'], resources: ['rayclusters', 'rayjobs', 'rayservices'], verbs: read },
    ]);
    const tokenReview = variant.startsWith('tokenreview');
    const collectorRole = rendered.objects.find(
      (o) => o.kind === 'ClusterRole' && o.metadata.name === 'mlcost-collector',
    );
    if (tokenReview)
      expect(collectorRole?.rules).toEqual([
        { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
      ]);
    else expect(collectorRole).toBeUndefined();
    // Every binding binds one of the chart's own roles to one of the chart's own service accounts.
    for (const binding of rendered.objects.filter((o) => o.kind.endsWith('RoleBinding'))) {
      expect(roles.map(id)).toContain(`${binding.roleRef!.kind}/${binding.roleRef!.name}`);
      for (const subject of binding.subjects ?? []) {
        expect(subject.kind).toBe('ServiceAccount');
        expect(subject.namespace).toBe(NAMESPACE);
        find(rendered, 'ServiceAccount', subject.name);
      }
    }
  });

  it('runs the collector under the Pod Security Standard "restricted", field by field', () => {
    const collector = collectorOf(render({ values: [variant] }));
    const spec = podTemplate(collector).spec;
    expect(podSecurityViolations(spec, 'restricted')).toEqual([]);
    const pod = spec.securityContext!;
    const sc = container(collector, 'collector').securityContext!;
    expect(pod.runAsNonRoot).toBe(true);
    expect(sc.runAsNonRoot).toBe(true);
    expect(pod.runAsUser).toBeGreaterThan(0);
    expect(sc.runAsUser).toBe(10001);
    expect(pod.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    expect(sc.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    expect(sc.allowPrivilegeEscalation).toBe(false);
    expect(sc.readOnlyRootFilesystem).toBe(true);
    expect(sc.capabilities).toEqual({ drop: ['ALL'] });
    expect(sc.privileged).toBeUndefined();
    expect([spec.hostNetwork, spec.hostPID, spec.hostIPC]).toEqual([undefined, undefined, undefined]);
    // The read-only root file system leaves /data (the database) and /tmp, both volumes, writable.
    const mounts = Object.fromEntries(
      container(collector, 'collector').volumeMounts!.map((m) => [m.mountPath, m.name]),
    );
    expect(mounts).toEqual({ '/data': 'data', '/tmp': 'tmp' });
    expect(spec.volumes!.find((v) => v.name === 'tmp')!.emptyDir).toBeDefined();
    expect(spec.automountServiceAccountToken).toBe(variant.startsWith('tokenreview'));
  });

  it('gives the agent exactly what its sources need, and no more', () => {
    const rendered = render({ values: [variant] });
    const agent = agentOf(rendered);
    const spec = podTemplate(agent).spec;
    const c = container(agent, 'agent');
    // Baseline is broken only by the two hostPath folders; "restricted" additionally by running as root.
    expect(podSecurityViolations(spec, 'baseline')).toEqual([
      'hostPath volume pod-resources',
      'hostPath volume spool',
    ]);
    expect(podSecurityViolations(spec, 'restricted')).toEqual([
      'container agent runAsNonRoot not true',
      'container agent runAsUser 0',
      'hostPath volume pod-resources',
      'hostPath volume spool',
    ]);
    expect(c.securityContext).toMatchObject({
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(c.securityContext!.capabilities!.add).toBeUndefined();
    // The pod-resources folder, read-only; the spool; nothing else from the host.
    const hostPaths = spec.volumes!.filter((v) => v.hostPath).map((v) => [v.name, v.hostPath!.path]);
    expect(hostPaths).toEqual([
      ['spool', '/var/lib/mlcost'],
      ['pod-resources', '/var/lib/kubelet/pod-resources'],
    ]);
    expect(c.volumeMounts!.find((m) => m.name === 'pod-resources')).toEqual({
      name: 'pod-resources',
      mountPath: '/var/lib/kubelet/pod-resources',
      readOnly: true,
    });
    expect(env(c, 'MLCOST_AGENT_POD_RESOURCES_SOCKET')!.value).toBe(
      '/var/lib/kubelet/pod-resources/kubelet.sock',
    );
    // Downward API: the node it reports for and the node address of the kubelet and dcgm-exporter.
    expect(env(c, 'NODE_NAME')!.valueFrom).toEqual({ fieldRef: { fieldPath: 'spec.nodeName' } });
    expect(env(c, 'HOST_IP')!.valueFrom).toEqual({ fieldRef: { fieldPath: 'status.hostIP' } });
    // It reaches GPU nodes: either the nvidia.com/gpu taint or every taint is tolerated.
    expect(spec.tolerations).toSatisfy((tolerations: PodSpec['tolerations']) =>
      (tolerations ?? []).some(
        (t) =>
          (t.key === 'nvidia.com/gpu' && t.operator === 'Exists' && t.effect === 'NoSchedule') ||
          (t.key === undefined && t.operator === 'Exists' && t.effect === undefined),
      ),
    );
    expect(spec.automountServiceAccountToken).toBe(true);
    expect(c.ports).toEqual([{ name: 'metrics', containerPort: 9495, protocol: 'TCP' }]);
    const sources = env(c, 'MLCOST_AGENT_SOURCES')!.value!.split(',');
    expect(sources.slice(0, 3)).toEqual(['pods', 'kubelet', 'pod-resources']);
    const nvidiaSmi = variant.startsWith('nvidia-smi');
    expect(sources.includes('dcgm')).toBe(!nvidiaSmi);
    expect(sources.includes('nvidia-smi')).toBe(nvidiaSmi);
    // The NVIDIA runtime only in the nvidia-smi fallback, and never a GPU request.
    expect(spec.runtimeClassName).toBe(nvidiaSmi ? 'nvidia' : undefined);
    expect(env(c, 'NVIDIA_VISIBLE_DEVICES')?.value).toBe(nvidiaSmi ? 'all' : undefined);
    expect(env(c, 'NVIDIA_DRIVER_CAPABILITIES')?.value).toBe(nvidiaSmi ? 'utility' : undefined);
    for (const bound of [c.resources?.requests ?? {}, c.resources?.limits ?? {}])
      expect(Object.keys(bound).filter((r) => r.startsWith('nvidia.com/'))).toEqual([]);
  });

  it('pins every image and sets resources on every container', () => {
    const rendered = render({ values: [variant] });
    const all = workloads(rendered).flatMap((w) => [
      ...(podTemplate(w).spec.initContainers ?? []),
      ...podTemplate(w).spec.containers,
    ]);
    expect(all.length).toBe(2);
    for (const c of all) {
      // repository:tag with a tag other than latest, or repository@sha256:digest.
      expect(c.image, c.name).toMatch(/^[^\s@]+(:[A-Za-z0-9_][A-Za-z0-9_.-]*|@sha256:[a-f0-9]{64})$/);
      expect(c.image, c.name).not.toMatch(/:latest$/);
      expect(c.image).toBe('ghcr.io/mlcost/mlcost:0.1.0');
      expect(c.resources?.requests?.['cpu'], c.name).toBeDefined();
      expect(c.resources?.requests?.['memory'], c.name).toBeDefined();
      expect(c.resources?.limits?.['memory'], c.name).toBeDefined();
    }
  });
});

describe('the parts', () => {
  it('runs one collector replica with Recreate, its database on a PVC, behind a Service on 8080', () => {
    const rendered = render();
    const collector = collectorOf(rendered);
    expect(collector.spec).toMatchObject({ replicas: 1, strategy: { type: 'Recreate' } });
    const data = podTemplate(collector).spec.volumes!.find((v) => v.name === 'data')!;
    expect(data.persistentVolumeClaim).toEqual({ claimName: 'mlcost-collector-data' });
    const claim = find(rendered, 'PersistentVolumeClaim', 'mlcost-collector-data');
    expect(claim.spec).toEqual({
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '10Gi' } },
    });
    const service = find(rendered, 'Service', 'mlcost-collector');
    expect(service.spec).toMatchObject({
      type: 'ClusterIP',
      ports: [{ name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' }],
    });
    expect(container(collector, 'collector').ports).toEqual([
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
    ]);
    // The Service selects the collector's pods and nothing else.
    const selector = (service.spec as { selector: Record<string, string> }).selector;
    expect(podTemplate(collector).metadata.labels).toMatchObject(selector);
    expect(podTemplate(agentOf(rendered)).metadata.labels).not.toMatchObject(selector);
  });

  it('uses standard labels, and selectors that never name a version', () => {
    const rendered = render({ values: ['gpu-dcgm-values.yaml'] });
    for (const object of rendered.objects) {
      expect(object.metadata.labels, id(object)).toMatchObject({
        'helm.sh/chart': 'mlcost-0.1.0',
        'app.kubernetes.io/name': 'mlcost',
        'app.kubernetes.io/instance': RELEASE,
        'app.kubernetes.io/managed-by': 'Helm',
        'app.kubernetes.io/version': '0.1.0',
      });
    }
    for (const workload of workloads(rendered)) {
      const selector = (workload.spec as { selector: { matchLabels: Record<string, string> } }).selector;
      expect(Object.keys(selector.matchLabels).sort()).toEqual([
        'app.kubernetes.io/component',
        'app.kubernetes.io/instance',
        'app.kubernetes.io/name',
      ]);
    }
  });

  it('keeps every name within 63 characters and distinct for a long release name', () => {
    const release = `r${'x'.repeat(52)}`; // helm's longest release name: 53 characters
    const rendered = render({ release, values: ['gpu-dcgm-values.yaml'] });
    expect(validate(rendered.text).filter((r) => r.errors.length > 0)).toEqual([]);
    for (const object of rendered.objects)
      expect(object.metadata.name.length, id(object)).toBeLessThanOrEqual(63);
    expect(new Set(ids(rendered)).size).toBe(rendered.objects.length);
    expect(rendered.objects.find((o) => o.kind === 'DaemonSet')!.metadata.name).toMatch(/-agent$/);
  });

  it('generates the ingest Secret once: random, looked up on upgrade, kept on uninstall', () => {
    const secret = find(render(), 'Secret', 'mlcost-ingest');
    expect(secret.metadata.annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });
    const token = Buffer.from(secret.data!['token']!, 'base64').toString('utf8');
    expect(token).toMatch(/^[A-Za-z0-9]{48}$/);
    // `helm template` cannot look up, so a second render makes a new token: proof that it is generated...
    const again = find(render({ set: ['logLevel=debug'] }), 'Secret', 'mlcost-ingest');
    expect(again.data!['token']).not.toBe(secret.data!['token']);
    // ...and the template reuses the token of the Secret already in the cluster when there is one.
    const source = readFileSync(join(CHART, 'templates', 'ingest-secret.yaml'), 'utf8');
    expect(source).toContain('lookup "v1" "Secret" .Release.Namespace $name');
    expect(source).toMatch(/\$token = index \$existing\.data/);
    // An existing Secret replaces the generated one in both parts.
    const own = render({ set: ['auth.existingSecret=my-ingest', 'auth.secretKey=bearer'] });
    expect(own.objects.some((o) => o.kind === 'Secret')).toBe(false);
    for (const [workload, name] of [
      [agentOf(own), 'agent'],
      [collectorOf(own), 'collector'],
    ] as const) {
      const variable = name === 'agent' ? 'MLCOST_AGENT_TOKEN' : 'MLCOST_COLLECTOR_INGEST_TOKEN';
      expect(env(container(workload, name), variable)!.valueFrom).toEqual({
        secretKeyRef: { name: 'my-ingest', key: 'bearer' },
      });
    }
  });

  it('tokenreview mode: a projected token with the audience, checked by a collector allowed TokenReviews only', () => {
    const rendered = render({ values: ['tokenreview-values.yaml'] });
    const agent = agentOf(rendered);
    const c = container(agent, 'agent');
    const volume = podTemplate(agent).spec.volumes!.find((v) => v.name === 'ingest-token')!;
    expect(volume.projected).toEqual({
      sources: [{ serviceAccountToken: { audience: 'mlcost', expirationSeconds: 3600, path: 'token' } }],
    });
    expect(c.volumeMounts).toContainEqual({
      name: 'ingest-token',
      mountPath: '/var/run/secrets/mlcost/ingest',
      readOnly: true,
    });
    expect(env(c, 'MLCOST_AGENT_TOKEN_FILE')!.value).toBe('/var/run/secrets/mlcost/ingest/token');
    expect(env(c, 'MLCOST_AGENT_TOKEN')).toBeUndefined();
    const collector = container(collectorOf(rendered), 'collector');
    expect(env(collector, 'MLCOST_COLLECTOR_AUTH_MODE')!.value).toBe('tokenreview');
    expect(env(collector, 'MLCOST_COLLECTOR_AUTH_AUDIENCE')!.value).toBe('mlcost');
    expect(env(collector, 'MLCOST_COLLECTOR_AUTH_SERVICE_ACCOUNTS')!.value).toBe(
      `${NAMESPACE}:${podTemplate(agent).spec.serviceAccountName}`,
    );
    expect(env(collector, 'MLCOST_COLLECTOR_INGEST_TOKEN')).toBeUndefined();
    const binding = find(rendered, 'ClusterRoleBinding', 'mlcost-collector');
    expect(binding.roleRef).toMatchObject({ kind: 'ClusterRole', name: 'mlcost-collector' });
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'mlcost-collector', namespace: NAMESPACE },
    ]);
  });

  it('spool: a hostPath folder by default, an emptyDir with a size limit as the option', () => {
    const byDefault = podTemplate(agentOf(render())).spec.volumes!.find((v) => v.name === 'spool')!;
    expect(byDefault.hostPath).toEqual({ path: '/var/lib/mlcost', type: 'DirectoryOrCreate' });
    const emptyDir = podTemplate(agentOf(render({ set: ['agent.spool.type=emptyDir'] }))).spec.volumes!.find(
      (v) => v.name === 'spool',
    )!;
    expect(emptyDir).toEqual({ name: 'spool', emptyDir: { sizeLimit: '512Mi' } });
  });

  it('monitoring objects select what they scrape', () => {
    const rendered = render({ values: ['gpu-dcgm-values.yaml'] });
    const serviceMonitor = find(rendered, 'ServiceMonitor', 'mlcost-collector');
    expect(serviceMonitor.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
    const service = find(rendered, 'Service', 'mlcost-collector');
    const smSpec = serviceMonitor.spec as {
      selector: { matchLabels: Record<string, string> };
      endpoints: { port: string; honorLabels?: boolean }[];
    };
    expect(service.metadata.labels).toMatchObject(smSpec.selector.matchLabels);
    expect(smSpec.endpoints.map((e) => e.port)).toEqual(['http']);
    // The cost series name the workload (namespace, pod, container): its labels must win over the collector pod's
    // own target labels, as alerts/mlcost.rules.yaml and the dashboards expect.
    expect(smSpec.endpoints[0]!.honorLabels).toBe(true);
    const podMonitor = find(rendered, 'PodMonitor', 'mlcost-agent');
    const pmSpec = podMonitor.spec as {
      selector: { matchLabels: Record<string, string> };
      podMetricsEndpoints: { port: string; honorLabels?: boolean; relabelings: unknown[] }[];
    };
    expect(podTemplate(agentOf(rendered)).metadata.labels).toMatchObject(pmSpec.selector.matchLabels);
    expect(podTemplate(collectorOf(rendered)).metadata.labels).not.toMatchObject(pmSpec.selector.matchLabels);
    // Likewise the agent's GPU series name the pod holding the GPU, not the agent pod.
    expect(pmSpec.podMetricsEndpoints[0]).toMatchObject({
      port: 'metrics',
      honorLabels: true,
      relabelings: [{ sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'node' }],
    });
  });

  it('NetworkPolicies: the collector accepts agents and monitoring; the agent reaches only what it reads', () => {
    const rendered = render({ values: ['gpu-dcgm-values.yaml'] });
    const agentLabels = podTemplate(agentOf(rendered)).metadata.labels;
    const collectorLabels = podTemplate(collectorOf(rendered)).metadata.labels;
    interface Rule {
      from?: Record<string, { matchLabels?: Record<string, string> }>[];
      to?: Record<string, { matchLabels?: Record<string, string> }>[];
      ports?: { port: number | string; protocol: string }[];
    }
    const policy = (name: string) =>
      find(rendered, 'NetworkPolicy', name).spec as {
        podSelector: { matchLabels: Record<string, string> };
        policyTypes: string[];
        ingress?: Rule[];
        egress?: Rule[];
      };
    const collector = policy('mlcost-collector');
    expect(collectorLabels).toMatchObject(collector.podSelector.matchLabels);
    expect(collector.policyTypes).toEqual(['Ingress']);
    expect(collector.ingress!.length).toBe(2);
    expect(agentLabels).toMatchObject(collector.ingress![0]!.from![0]!['podSelector']!.matchLabels!);
    expect(collector.ingress![1]!.from![0]!['namespaceSelector']).toEqual({
      matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' },
    });
    for (const rule of collector.ingress!) expect(rule.ports).toEqual([{ port: 'http', protocol: 'TCP' }]);
    const agent = policy('mlcost-agent');
    expect(agentLabels).toMatchObject(agent.podSelector.matchLabels);
    expect(agent.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(agent.ingress!.map((r) => r.ports)).toEqual([[{ port: 'metrics', protocol: 'TCP' }]]);
    const egressPorts = agent.egress!.map((r) =>
      (r.ports ?? []).map((p) => `${p.port}/${p.protocol}`).join(','),
    );
    expect(egressPorts).toEqual(['8080/TCP', '53/UDP,53/TCP', '443/TCP,6443/TCP', '10250/TCP,9400/TCP', '']);
    expect(collectorLabels).toMatchObject(agent.egress![0]!.to![0]!['podSelector']!.matchLabels!);
    // The last rule: model servers' pods in any namespace (only while the model-servers source is on).
    expect(agent.egress![4]!.to).toEqual([{ namespaceSelector: {} }]);
    const withoutModels = render({
      values: ['gpu-dcgm-values.yaml'],
      set: ['agent.modelServers.enabled=false'],
    });
    const narrower = find(withoutModels, 'NetworkPolicy', 'mlcost-agent').spec as { egress: Rule[] };
    expect(narrower.egress.length).toBe(4);
    const cidrs = render({
      values: ['gpu-dcgm-values.yaml'],
      setJson: ['networkPolicy.apiServer.cidrs=["10.0.0.1/32"]', 'networkPolicy.nodeCidrs=["10.1.0.0/16"]'],
    });
    expect(validate(cidrs.text).filter((r) => r.errors.length > 0)).toEqual([]);
    const scoped = find(cidrs, 'NetworkPolicy', 'mlcost-agent').spec as { egress: Rule[] };
    expect(scoped.egress[2]!.to).toEqual([{ ipBlock: { cidr: '10.0.0.1/32' } }]);
    expect(scoped.egress[3]!.to).toEqual([{ ipBlock: { cidr: '10.1.0.0/16' } }]);
  });
});

// Each switch, rendered on and off from the defaults: the objects that differ must be exactly its own.
const RULE_FILES = existsSync(join(REPO_ROOT, 'alerts'))
  ? readdirSync(join(REPO_ROOT, 'alerts')).filter((n) => n.endsWith('.rules.yaml'))
  : [];
const DASHBOARD_FILES = existsSync(join(REPO_ROOT, 'dashboards'))
  ? readdirSync(join(REPO_ROOT, 'dashboards')).filter((n) => n.endsWith('.json'))
  : [];
/** The chart's object name for an embedded file (mlcost.fileObjectName in _helpers.tpl). */
function fileObjectName(file: string, suffix: string, kind: string): string {
  const base = file
    .slice(0, -suffix.length)
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^mlcost/, '')
    .replace(/^-+|-+$/g, '');
  return ['mlcost', kind, base].filter(Boolean).join('-');
}
const ruleObject = (file: string) => `PrometheusRule/${fileObjectName(file, '.rules.yaml', '')}`;
const dashboardObject = (file: string) => `ConfigMap/${fileObjectName(file, '.json', 'dashboard')}`;

interface Switch {
  name: string;
  on: RenderOptions;
  off: RenderOptions;
  onlyOn: string[];
  onlyOff?: string[];
}
const SWITCHES: Switch[] = [
  {
    name: 'serviceMonitor.enabled',
    on: { set: ['serviceMonitor.enabled=true'] },
    off: { set: ['serviceMonitor.enabled=false'] },
    onlyOn: ['ServiceMonitor/mlcost-collector'],
  },
  {
    name: 'podMonitor.enabled',
    on: { set: ['podMonitor.enabled=true'] },
    off: { set: ['podMonitor.enabled=false'] },
    onlyOn: ['PodMonitor/mlcost-agent'],
  },
  {
    name: 'networkPolicy.enabled',
    on: { set: ['networkPolicy.enabled=true'] },
    off: { set: ['networkPolicy.enabled=false'] },
    onlyOn: ['NetworkPolicy/mlcost-agent', 'NetworkPolicy/mlcost-collector'],
  },
  {
    name: 'prometheusRule.enabled (one PrometheusRule per alerts/*.rules.yaml)',
    on: { set: ['prometheusRule.enabled=true'] },
    off: { set: ['prometheusRule.enabled=false'] },
    onlyOn: RULE_FILES.map(ruleObject),
  },
  {
    name: 'dashboards.enabled (one ConfigMap per dashboards/*.json)',
    on: { set: ['dashboards.enabled=true'] },
    off: { set: ['dashboards.enabled=false'] },
    onlyOn: DASHBOARD_FILES.map(dashboardObject),
  },
  {
    name: 'collector.persistence.enabled',
    on: { set: ['collector.persistence.enabled=true'] },
    off: { set: ['collector.persistence.enabled=false'] },
    onlyOn: ['PersistentVolumeClaim/mlcost-collector-data'],
  },
  {
    name: 'collector.persistence.existingClaim',
    on: { set: ['collector.persistence.existingClaim=my-data'] },
    off: {},
    onlyOn: [],
    onlyOff: ['PersistentVolumeClaim/mlcost-collector-data'],
  },
  {
    name: 'auth.mode (tokenreview vs token)',
    on: { set: ['auth.mode=tokenreview'] },
    off: { set: ['auth.mode=token'] },
    onlyOn: ['ClusterRole/mlcost-collector', 'ClusterRoleBinding/mlcost-collector'],
    onlyOff: ['Secret/mlcost-ingest'],
  },
  {
    name: 'auth.existingSecret',
    on: { set: ['auth.existingSecret=my-ingest'] },
    off: {},
    onlyOn: [],
    onlyOff: ['Secret/mlcost-ingest'],
  },
  {
    name: 'rbac.create',
    on: { set: ['rbac.create=true', 'auth.mode=tokenreview'] },
    off: { set: ['rbac.create=false', 'auth.mode=tokenreview'] },
    onlyOn: [
      'ClusterRole/mlcost-agent',
      'ClusterRole/mlcost-collector',
      'ClusterRoleBinding/mlcost-agent',
      'ClusterRoleBinding/mlcost-collector',
    ],
  },
  {
    name: 'agent.serviceAccount.create',
    on: { set: ['agent.serviceAccount.create=true'] },
    off: { set: ['agent.serviceAccount.create=false', 'agent.serviceAccount.name=existing-agent'] },
    onlyOn: ['ServiceAccount/mlcost-agent'],
  },
  {
    name: 'collector.serviceAccount.create',
    on: { set: ['collector.serviceAccount.create=true'] },
    off: { set: ['collector.serviceAccount.create=false'] },
    onlyOn: ['ServiceAccount/mlcost-collector'],
  },
  ...[
    'agent.nvidiaRuntime',
    'agent.dcgm.enabled',
    'agent.podResources.enabled',
    'agent.modelServers.enabled',
  ].map(
    (key): Switch => ({
      name: `${key} (changes the agent, adds no object)`,
      on: { set: [`${key}=true`] },
      off: { set: [`${key}=false`] },
      onlyOn: [],
    }),
  ),
];

describe('switches', () => {
  it.each(SWITCHES)('$name adds and removes exactly its objects', (sw) => {
    const on = render(sw.on);
    const off = render(sw.off);
    const onIds = new Set(ids(on));
    const offIds = new Set(ids(off));
    expect([...onIds].filter((x) => !offIds.has(x)).sort()).toEqual([...sw.onlyOn].sort());
    expect([...offIds].filter((x) => !onIds.has(x)).sort()).toEqual([...(sw.onlyOff ?? [])].sort());
    for (const rendered of [on, off])
      expect(validate(rendered.text).filter((r) => r.errors.length > 0)).toEqual([]);
  });

  it('the field switches change what they say', () => {
    const withRuntime = podTemplate(agentOf(render({ set: ['agent.nvidiaRuntime=true'] }))).spec;
    expect(withRuntime.runtimeClassName).toBe('nvidia');
    const noPodResources = podTemplate(agentOf(render({ set: ['agent.podResources.enabled=false'] })));
    expect(noPodResources.spec.volumes!.map((v) => v.name)).not.toContain('pod-resources');
    expect(env(noPodResources.spec.containers[0]!, 'MLCOST_AGENT_SOURCES')!.value).toBe(
      'pods,kubelet,dcgm,model-servers',
    );
    const noMl = find(render({ set: ['rbac.mlWorkloads=false'] }), 'ClusterRole', 'mlcost-agent');
    expect(noMl.rules!.flatMap((r) => r.apiGroups ?? [])).toEqual(['', '', '', '', 'apps', 'batch']);
  });
});

describe('values.schema.json', () => {
  const BAD: { what: string; args: string[]; path: string; message: RegExp }[] = [
    {
      what: 'a wrong type (string for integer)',
      args: ['--set', 'collector.maxInFlight=many'],
      path: '/collector/maxInFlight',
      message: /got string, want integer/,
    },
    {
      what: 'a wrong type (string for boolean)',
      args: ['--set-string', 'agent.nvidiaRuntime=yes'],
      path: '/agent/nvidiaRuntime',
      message: /got string, want boolean/,
    },
    {
      what: 'a wrong type (number for object)',
      args: ['--set', 'agent.dcgm=9400'],
      path: '/agent/dcgm',
      message: /got number, want object/,
    },
    {
      what: 'an unknown key',
      args: ['--set', 'agent.spool.sizeLimit=1Gi'],
      path: '/agent/spool',
      message: /additional properties 'sizeLimit' not allowed/,
    },
    {
      what: 'an unknown top-level key (a typo)',
      args: ['--set', 'colector.retention=7d'],
      path: '',
      message: /additional properties 'colector' not allowed/,
    },
    {
      what: 'a negative size',
      args: ['--set', 'collector.persistence.size=-10Gi'],
      path: '/collector/persistence/size',
      message: /'-10Gi' does not match pattern/,
    },
    {
      what: 'a negative spool bound',
      args: ['--set', 'agent.spool.maxBytes=-1Mi'],
      path: '/agent/spool/maxBytes',
      message: /'-1Mi' does not match pattern/,
    },
    {
      what: 'a negative resource',
      args: ['--set', 'agent.resources.requests.memory=-96Mi'],
      path: '/agent/resources/requests/memory',
      message: /./,
    },
    {
      what: 'a negative number',
      args: ['--set', 'auth.tokenExpirationSeconds=-1'],
      path: '/auth/tokenExpirationSeconds',
      message: /minimum: got -1, want 600/,
    },
    {
      what: 'a token life under 10 minutes',
      args: ['--set', 'auth.tokenExpirationSeconds=60'],
      path: '/auth/tokenExpirationSeconds',
      message: /want 600/,
    },
    { what: 'the latest tag', args: ['--set', 'image.tag=latest'], path: '/image/tag', message: /./ },
    {
      what: 'a bad duration',
      args: ['--set', 'agent.interval=soon'],
      path: '/agent/interval',
      message: /'soon' does not match pattern/,
    },
    {
      what: 'an unknown auth mode',
      args: ['--set', 'auth.mode=password'],
      path: '/auth/mode',
      message: /value must be one of 'token', 'tokenreview'/,
    },
    {
      what: 'a port out of range',
      args: ['--set', 'collector.service.port=70000'],
      path: '/collector/service/port',
      message: /maximum: got 70,?000, want 65,?535/,
    },
  ];

  it.each(BAD)('refuses $what, naming the value', ({ args, path, message }) => {
    const result = helm([...templateArgs({}), ...args]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("values don't meet the specifications of the schema");
    const line = result.stderr.split('\n').find((l) => l.startsWith(`- at '${path}'`));
    expect(line, result.stderr).toBeDefined();
    expect(line).toMatch(message);
  });

  it('refuses bad values in a values file too, and so does helm lint', () => {
    const file = join(work, 'bad-values.yaml');
    writeFileSync(file, 'collector:\n  persistence:\n    size: -5Gi\nagent:\n  windw: 60s\n');
    const template = helm([...templateArgs({ values: [file] })]);
    expect(template.status).not.toBe(0);
    expect(template.stderr).toMatch(/- at '\/collector\/persistence\/size': '-5Gi' does not match pattern/);
    expect(template.stderr).toMatch(/- at '\/agent': additional properties 'windw' not allowed/);
    const lint = helm(['lint', CHART, '-f', file]);
    expect(lint.status).not.toBe(0);
    expect(lint.stdout + lint.stderr).toMatch(/\/collector\/persistence\/size/);
  });

  it('describes every value: each key of values.yaml has a comment, and is in the schema', () => {
    const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as SchemaNode;
    const document = parseDocument(readFileSync(join(CHART, 'values.yaml'), 'utf8'));
    const missing: string[] = [];
    const uncommented: string[] = [];
    interface SchemaNode {
      properties?: Record<string, SchemaNode>;
    }
    // helm-docs' convention: "# -- text" documents a value (whose default may be a map or a list); a plain comment
    // introduces a group of values, each of which must be documented in turn, and present with its default.
    const absent: string[] = [];
    const isValueComment = (comment: string) => comment.split('\n').some((line) => /^ ?-- /.test(line));
    const walk = (node: YamlNode | null | undefined, schemaNode: SchemaNode, path: string) => {
      if (!isMap(node)) return;
      const present = new Set<string>();
      node.items.forEach((pair, index) => {
        const key = isScalar(pair.key) ? String(pair.key.value) : '?';
        present.add(key);
        const keyPath = path ? `${path}.${key}` : key;
        const property = schemaNode.properties?.[key];
        if (!property) missing.push(keyPath);
        const comment =
          (isScalar(pair.key) && pair.key.commentBefore) || (index === 0 && node.commentBefore) || '';
        if (!comment) uncommented.push(keyPath);
        else if (!isValueComment(comment) && property) walk(pair.value as YamlNode, property, keyPath);
      });
      for (const key of Object.keys(schemaNode.properties ?? {}))
        if (!present.has(key) && !(path === '' && key === 'global'))
          absent.push(path ? `${path}.${key}` : key);
    };
    walk(document.contents as YamlNode, schema, '');
    expect(missing).toEqual([]);
    expect(uncommented).toEqual([]);
    // global is Helm's own, shared with subcharts.
    expect(absent).toEqual([]);
  });
});

describe('alert rules and dashboards', () => {
  const RULES_SAMPLE = [
    '# A rules file as alerts/ holds them: comments, blank lines and Prometheus templates stay as written.',
    'groups:',
    '  - name: mlcost-sample',
    '    rules:',
    '      - alert: MLCostSampleIdle',
    '        expr: mlcost_agent_gpu_activity_ratio < 0.05',
    '        for: 15m',
    '        labels:',
    '          severity: warning',
    '',
    '        annotations:',
    '          summary: A GPU is idle.',
    '          description: "GPU {{ $labels.gpu }} in {{ $labels.namespace }} is at {{ $value | humanizePercentage }}."',
    '',
  ].join('\n');
  const DASHBOARD_SAMPLE =
    '{\n  "uid": "mlcost-sample",\n  "title": "mlcost / sample <&> \u00e9",\n  "panels": [{"expr": "sum by (namespace) (x{a=~\\"b|c\\"})", "legend": "{{namespace}}"}]\n}';

  /** The text of one document's `spec:` block in the helm output, with the two spaces of indent removed. */
  function specText(rendered: Rendered, kind: string, name: string): string {
    const document = rendered.text
      .split(/^---$/m)
      .find(
        (d) => new RegExp(`^kind: ${kind}$`, 'm').test(d) && new RegExp(`^  name: ${name}$`, 'm').test(d),
      );
    if (!document) throw new Error(`no ${kind}/${name} in the helm output`);
    const lines = document.split('\n');
    const start = lines.indexOf('spec:');
    return lines
      .slice(start + 1)
      .map((l) => l.replace(/^ {2}/, ''))
      .join('\n');
  }

  it('embeds rule files and dashboards byte for byte (shown with sample files in a copy of the chart)', () => {
    const chart = chartCopy('embed');
    rmSync(join(chart, 'files'), { recursive: true, force: true }); // only the samples below, not the real files
    mkdirSync(join(chart, 'files', 'alerts'), { recursive: true });
    mkdirSync(join(chart, 'files', 'dashboards'), { recursive: true });
    writeFileSync(join(chart, 'files', 'alerts', 'mlcost.rules.yaml'), RULES_SAMPLE);
    const second = RULES_SAMPLE.replace('mlcost-sample', 'mlcost-jobs');
    writeFileSync(join(chart, 'files', 'alerts', 'Training Jobs.rules.yaml'), second);
    writeFileSync(join(chart, 'files', 'dashboards', 'mlcost-overview.json'), DASHBOARD_SAMPLE);
    const on = render({ chart, set: ['prometheusRule.enabled=true', 'dashboards.enabled=true'] });
    const off = render({ chart, set: ['prometheusRule.enabled=false', 'dashboards.enabled=false'] });
    const added = ids(on).filter((x) => !ids(off).includes(x));
    expect(added).toEqual([
      'ConfigMap/mlcost-dashboard-overview',
      'PrometheusRule/mlcost',
      'PrometheusRule/mlcost-training-jobs',
    ]);
    expect(added).toEqual(
      [
        dashboardObject('mlcost-overview.json'),
        ruleObject('mlcost.rules.yaml'),
        ruleObject('Training Jobs.rules.yaml'),
      ].sort(),
    );
    expect(ids(off)).toEqual(ids(render()));
    expect(validate(on.text).filter((r) => r.errors.length > 0)).toEqual([]);
    // The rule file's text is the spec, line for line (helm trims only the whitespace at the very end).
    expect(specText(on, 'PrometheusRule', 'mlcost').trimEnd()).toBe(RULES_SAMPLE.trimEnd());
    expect(find(on, 'PrometheusRule', 'mlcost').spec).toEqual(parseYaml(RULES_SAMPLE));
    expect(specText(on, 'PrometheusRule', 'mlcost-training-jobs').trimEnd()).toBe(second.trimEnd());
    const dashboard = find(on, 'ConfigMap', 'mlcost-dashboard-overview');
    expect(dashboard.data).toEqual({ 'mlcost-overview.json': DASHBOARD_SAMPLE });
    expect(dashboard.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
  });

  it('renders without alert or dashboard files, saying why there is nothing', () => {
    const chart = chartCopy('empty');
    rmSync(join(chart, 'files'), { recursive: true, force: true });
    const rendered = render({ chart, set: ['prometheusRule.enabled=true', 'dashboards.enabled=true'] });
    expect(
      rendered.objects.filter((o) => o.kind === 'PrometheusRule' || o.metadata.labels?.['grafana_dashboard']),
    ).toEqual([]);
    expect(rendered.text).toContain('no files/alerts/*.rules.yaml, so no PrometheusRule is');
    expect(rendered.text).toContain('no files/dashboards/*.json, so no dashboard ConfigMap is');
  });

  it('holds byte-identical copies of alerts/*.rules.yaml and dashboards/*.json, and renders exactly those', () => {
    const check = run('bash', [join(REPO_ROOT, 'deploy', 'sync-chart-files.sh'), '--check']);
    expect(check.stdout + check.stderr, 'run deploy/sync-chart-files.sh').toContain(
      "the chart's files/ match",
    );
    expect(check.status).toBe(0);
    const rendered = render({ values: ['gpu-dcgm-values.yaml'] });
    const rules = rendered.objects.filter((o) => o.kind === 'PrometheusRule');
    // While alerts/ holds no rules file yet, there is no PrometheusRule: this then asserts the empty set, and
    // starts comparing bytes as soon as alerts/*.rules.yaml exist (after deploy/sync-chart-files.sh).
    expect(rules.map(id).sort()).toEqual(RULE_FILES.map(ruleObject).sort());
    for (const file of RULE_FILES) {
      const source = readFileSync(join(REPO_ROOT, 'alerts', file), 'utf8');
      expect(readFileSync(join(CHART, 'files', 'alerts', file), 'utf8')).toBe(source);
      const name = ruleObject(file).slice('PrometheusRule/'.length);
      expect(specText(rendered, 'PrometheusRule', name).trimEnd()).toBe(source.trimEnd());
      expect(find(rendered, 'PrometheusRule', name).spec).toEqual(parseYaml(source));
    }
    const dashboards = rendered.objects.filter((o) => o.metadata.labels?.['grafana_dashboard'] === '1');
    expect(dashboards.map(id).sort()).toEqual(DASHBOARD_FILES.map(dashboardObject).sort());
    for (const file of DASHBOARD_FILES) {
      const source = readFileSync(join(REPO_ROOT, 'dashboards', file), 'utf8');
      expect(readFileSync(join(CHART, 'files', 'dashboards', file), 'utf8')).toBe(source);
      expect(find(rendered, 'ConfigMap', dashboardObject(file).slice('ConfigMap/'.length)).data).toEqual({
        [file]: source,
      });
    }
    if (RULE_FILES.length === 0) expect(rendered.text).toContain('so no PrometheusRule is');
  });

  it('deploy/sync-chart-files.sh copies, refreshes and removes copies, and --check says when they differ', () => {
    const root = join(work, 'sync');
    mkdirSync(join(root, 'deploy', 'helm', 'mlcost', 'files', 'dashboards'), { recursive: true });
    mkdirSync(join(root, 'alerts'), { recursive: true });
    mkdirSync(join(root, 'dashboards'), { recursive: true });
    cpSync(join(REPO_ROOT, 'deploy', 'sync-chart-files.sh'), join(root, 'deploy', 'sync-chart-files.sh'));
    writeFileSync(join(root, 'alerts', 'a.rules.yaml'), RULES_SAMPLE);
    writeFileSync(join(root, 'alerts', 'notes.md'), 'not copied');
    writeFileSync(join(root, 'dashboards', 'd.json'), DASHBOARD_SAMPLE);
    writeFileSync(join(root, 'deploy', 'helm', 'mlcost', 'files', 'dashboards', 'gone.json'), '{}');
    const script = join(root, 'deploy', 'sync-chart-files.sh');
    expect(run('bash', [script, '--check']).status).toBe(1);
    expect(run('bash', [script]).status).toBe(0);
    const files = join(root, 'deploy', 'helm', 'mlcost', 'files');
    expect(readFileSync(join(files, 'alerts', 'a.rules.yaml'), 'utf8')).toBe(RULES_SAMPLE);
    expect(readFileSync(join(files, 'dashboards', 'd.json'), 'utf8')).toBe(DASHBOARD_SAMPLE);
    expect(readdirSync(join(files, 'alerts'))).toEqual(['a.rules.yaml']);
    expect(readdirSync(join(files, 'dashboards'))).toEqual(['d.json']);
    expect(run('bash', [script, '--check']).status).toBe(0);
    writeFileSync(join(root, 'alerts', 'a.rules.yaml'), `${RULES_SAMPLE}# changed\n`);
    const stale = run('bash', [script, '--check']);
    expect(stale.status).toBe(1);
    expect(stale.stdout).toContain('differs: alerts/a.rules.yaml');
  });
});

describe('how users meet the chart', () => {
  let notesRendered = 0;
  /** NOTES.txt rendered offline: helm template skips NOTES, so a copy of the chart renders it into a ConfigMap-less document. */
  function notes(options: RenderOptions = {}): string {
    const chart = chartCopy(`notes-${++notesRendered}`);
    const text = readFileSync(join(chart, 'templates', 'NOTES.txt'), 'utf8');
    writeFileSync(
      join(chart, 'templates', '_notes_under_test.tpl'),
      `{{- define "test.notes" -}}\n${text}\n{{- end }}\n`,
    );
    writeFileSync(
      join(chart, 'templates', 'notes-under-test.yaml'),
      'notes: {{ include "test.notes" . | toJson }}\n',
    );
    const result = helm([
      ...templateArgs({ ...options, chart }),
      '--show-only',
      'templates/notes-under-test.yaml',
    ]);
    expect(result.status, result.stderr).toBe(0);
    return (parseYaml(result.stdout) as { notes: string }).notes;
  }

  it('NOTES.txt says how to reach the report and the API', () => {
    const text = notes();
    expect(text).toContain('kubectl -n mlcost port-forward svc/mlcost-collector 8080:8080');
    expect(text).toContain('http://127.0.0.1:8080/');
    expect(text).toContain("curl -s 'http://127.0.0.1:8080/api/v1/allocation?window=1d&aggregate=namespace'");
    expect(text).toContain('kubectl -n mlcost rollout status daemonset/mlcost-agent');
    expect(text).toContain(
      'kubectl label namespace mlcost pod-security.kubernetes.io/enforce=privileged --overwrite',
    );
    // Without host folders the agent needs no privileged namespace, and the notes do not ask for one.
    const unprivileged = notes({ set: ['agent.podResources.enabled=false', 'agent.spool.type=emptyDir'] });
    expect(unprivileged).not.toContain('pod-security.kubernetes.io/enforce');
    expect(notes({ values: ['tokenreview-values.yaml'] })).toContain(
      'projected service-account tokens (audience "mlcost")',
    );
  });

  it('the install commands in the READMEs render as written, with values files the tests render', () => {
    const readmes = [join(CHART, 'README.md'), join(REPO_ROOT, 'README.md')];
    let commands = 0;
    for (const readme of readmes) {
      const text = readFileSync(readme, 'utf8');
      const start = text.indexOf('## Install with Helm');
      if (start < 0) {
        // The top README gets the section from the chart's README; until then only the chart's is checked.
        expect(readme).toBe(join(REPO_ROOT, 'README.md'));
        continue;
      }
      const end = text.indexOf('\n## ', start + 1);
      const section = text.slice(start, end < 0 ? undefined : end);
      for (const line of section.split('\n').map((l) => l.trim())) {
        if (line.startsWith('helm install ')) {
          commands++;
          const args = line.split(/\s+/).slice(1);
          expect(args.slice(0, 3)).toEqual(['install', 'mlcost', 'deploy/helm/mlcost']);
          for (let i = 0; i < args.length; i++)
            if (args[i] === '-f')
              expect(VARIANTS.map((v) => `deploy/helm/mlcost/ci/${v}`)).toContain(args[i + 1]);
          const result = helm(['template', ...args.slice(1)]);
          expect(result.status, `${line}\n${result.stderr}`).toBe(0);
          expect(validate(result.stdout).filter((r) => r.errors.length > 0)).toEqual([]);
        }
        const forward = /^kubectl -n (\S+) port-forward svc\/(\S+) (\d+):(\d+)$/.exec(line);
        if (forward) {
          const [, namespace, name, , port] = forward;
          const service = find(render(), 'Service', name!);
          expect(service.metadata.namespace).toBe(namespace);
          expect((service.spec as { ports: { port: number }[] }).ports.map((p) => p.port)).toContain(
            Number(port),
          );
        }
      }
    }
    expect(commands).toBeGreaterThanOrEqual(2);
  });
});
