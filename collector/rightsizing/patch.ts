// Builds the ready-to-apply patch of a recommendation: strategic merge for built-in kinds, JSON merge for
// object-only changes to custom resources, JSON patch (guarded by a test of the container's name) for container
// changes to custom resources, each with its YAML and the `kubectl patch` command that applies it.
import { stringify } from 'yaml';
import type { Patch, Target } from './types.ts';
import { kindInfo } from './workload-kinds.ts';

/** A resource value to write, or null to delete the key (e.g. `nvidia.com/gpu` when moving to a MIG slice). */
export type ResourceMap = Record<string, string | number | null>;

export interface ContainerChange {
  requests?: ResourceMap;
  limits?: ResourceMap;
}

/** Where to find the container: the Kubeflow replica type and the container's index in the template. */
export interface ContainerPlace {
  replicaType?: string;
  containerIndex?: number;
}

function nest(path: readonly string[], leaf: unknown): Record<string, unknown> {
  let value = leaf;
  for (let i = path.length - 1; i >= 0; i -= 1) value = { [path[i]!]: value };
  return value as Record<string, unknown>;
}

/** RFC 6901: `~` → `~0`, `/` → `~1` (so `nvidia.com/gpu` → `nvidia.com~1gpu`). */
const pointer = (path: ReadonlyArray<string | number>) =>
  `/${path.map((part) => String(part).replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;

function finish(target: Target, type: Patch['type'], body: unknown): Patch {
  const info = kindInfo(target.kind);
  const json = JSON.stringify(body);
  return {
    type,
    apiVersion: info.apiVersion,
    kind: target.kind,
    namespace: target.namespace,
    name: target.name,
    body,
    yaml: stringify(body),
    command: `kubectl patch ${info.resource} ${target.name} -n ${target.namespace} --type ${type} -p '${json}'`,
  };
}

const withoutEmpty = (change: ContainerChange) =>
  Object.fromEntries(
    Object.entries(change).filter(([, map]) => map !== undefined && Object.keys(map).length > 0),
  ) as ContainerChange;

/** Changes one container's resources. */
export function containerPatch(
  target: Target,
  container: string,
  change: ContainerChange,
  place: ContainerPlace = {},
) {
  const info = kindInfo(target.kind);
  const resources = withoutEmpty(change);
  if (info.builtin) {
    const podSpec = info.podSpecPath(place.replicaType);
    return finish(target, 'strategic', nest(podSpec, { containers: [{ name: container, resources }] }));
  }
  if (target.kind === 'InferenceService') {
    // The common form: the predictor's `model` carries the resources of `kserve-container`; an object, so a
    // merge patch is exact. (A custom-container predictor rejects it: safe, and the reason says so.)
    return finish(target, 'merge', nest(['spec', 'predictor', 'model'], { resources }));
  }
  const containerPath = [...info.podSpecPath(place.replicaType), 'containers', place.containerIndex ?? 0];
  const ops: Array<Record<string, unknown>> = [
    { op: 'test', path: pointer([...containerPath, 'name']), value: container },
  ];
  for (const [section, map] of Object.entries(resources) as Array<[string, ResourceMap]>) {
    for (const [key, value] of Object.entries(map)) {
      const path = pointer([...containerPath, 'resources', section, key]);
      ops.push(value === null ? { op: 'remove', path } : { op: 'add', path, value: String(value) });
    }
  }
  return finish(target, 'json', ops);
}

/** Sets fields of the pod spec that are maps, not lists (`nodeSelector`). */
export function podSpecPatch(target: Target, fields: Record<string, unknown>, place: ContainerPlace = {}) {
  const info = kindInfo(target.kind);
  return finish(
    target,
    info.builtin ? 'strategic' : 'merge',
    nest(info.podSpecPath(place.replicaType), fields),
  );
}

/** Sets one field of the object (`spec.replicas`, `spec.runPolicy.suspend`, an annotation). */
export function fieldPatch(target: Target, path: readonly string[], value: unknown) {
  const info = kindInfo(target.kind);
  return finish(target, info.builtin ? 'strategic' : 'merge', nest(path, value));
}

/** Scales to `replicas` where the kind has a count, else stops it (suspend, the notebook annotation). */
export function scalePatch(target: Target, replicas: number): Patch {
  const info = kindInfo(target.kind);
  if (info.replicasPath) return fieldPatch(target, info.replicasPath, replicas);
  if (replicas === 0) return stopPatch(target);
  return fieldPatch(target, ['spec', 'replicas'], replicas);
}

/** A bare Pod has no controller to scale: the only way to stop it is to delete it. */
function deletion(target: Target): Patch {
  const info = kindInfo(target.kind);
  return {
    type: 'delete',
    apiVersion: info.apiVersion,
    kind: target.kind,
    namespace: target.namespace,
    name: target.name,
    body: null,
    yaml: '',
    command: `kubectl delete ${info.resource} ${target.name} -n ${target.namespace}`,
  };
}

/** Stops the workload without deleting it (a bare Pod excepted). */
export function stopPatch(target: Target): Patch {
  const info = kindInfo(target.kind);
  if (info.stop) return fieldPatch(target, info.stop.path, info.stop.value);
  if (target.kind === 'Pod') return deletion(target);
  return fieldPatch(target, ['spec', 'replicas'], 0);
}
