// Where each workload kind keeps its pod template, replica count and stop switch, so patches land on the right
// path: `spec.template.spec` for Deployments, `spec.pytorchReplicaSpecs.Worker.template.spec` for PyTorchJobs.

import { KUBEFLOW_TRAINING_KINDS } from '../cost/jobs.ts';

export interface KindInfo {
  apiVersion: string;
  /** The `kubectl patch` resource argument: `deployment.apps`, `pytorchjob.kubeflow.org`. */
  resource: string;
  /** Built-in kinds take strategic merge patches (containers merge by name); custom resources do not. */
  builtin: boolean;
  /** Path to the pod spec, given the Kubeflow replica type where the kind has several. */
  podSpecPath(replicaType: string | undefined): string[];
  /** Path to the replica count, where the kind has one. */
  replicasPath?: string[];
  /** How to stop it without deleting it: a field set to a value (Job `suspend`), or an annotation. */
  stop?: { path: string[]; value: unknown };
}

/** Kubeflow replica-type labels are lower-case (`worker`); the spec keys are not (`Worker`, `PS`). */
export function replicaSpecKey(replicaType: string | undefined): string {
  const type = (replicaType ?? 'worker').toLowerCase();
  const known: Record<string, string> = {
    worker: 'Worker',
    master: 'Master',
    ps: 'PS',
    chief: 'Chief',
    evaluator: 'Evaluator',
    launcher: 'Launcher',
  };
  return known[type] ?? (replicaType as string);
}

const template = ['spec', 'template', 'spec'];

const apps = (kind: string, withReplicas: boolean): KindInfo => ({
  apiVersion: 'apps/v1',
  resource: `${kind.toLowerCase()}.apps`,
  builtin: true,
  podSpecPath: () => template,
  ...(withReplicas
    ? { replicasPath: ['spec', 'replicas'], stop: { path: ['spec', 'replicas'], value: 0 } }
    : {}),
});

const kubeflowJob = (kind: string, specsField: string): KindInfo => ({
  apiVersion: 'kubeflow.org/v1',
  resource: `${kind.toLowerCase()}.kubeflow.org`,
  builtin: false,
  podSpecPath: (replicaType) => ['spec', specsField, replicaSpecKey(replicaType), 'template', 'spec'],
  // training-operator v1 runPolicy.suspend: the job's pods go away and it resumes where the spec says.
  stop: { path: ['spec', 'runPolicy', 'suspend'], value: true },
});

const KINDS: Record<string, KindInfo> = {
  Deployment: apps('Deployment', true),
  StatefulSet: apps('StatefulSet', true),
  ReplicaSet: apps('ReplicaSet', true),
  DaemonSet: {
    ...apps('DaemonSet', false),
    // A DaemonSet has no replica count: a node selector no node carries removes its pods until it is taken out.
    stop: { path: ['spec', 'template', 'spec', 'nodeSelector', 'mlcost.io/stopped'], value: 'true' },
  },
  Job: {
    apiVersion: 'batch/v1',
    resource: 'job.batch',
    builtin: true,
    podSpecPath: () => template,
    stop: { path: ['spec', 'suspend'], value: true },
  },
  CronJob: {
    apiVersion: 'batch/v1',
    resource: 'cronjob.batch',
    builtin: true,
    podSpecPath: () => ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
    stop: { path: ['spec', 'suspend'], value: true },
  },
  Pod: { apiVersion: 'v1', resource: 'pod', builtin: true, podSpecPath: () => ['spec'] },
  PyTorchJob: kubeflowJob('PyTorchJob', 'pytorchReplicaSpecs'),
  TFJob: kubeflowJob('TFJob', 'tfReplicaSpecs'),
  MPIJob: kubeflowJob('MPIJob', 'mpiReplicaSpecs'),
  XGBoostJob: kubeflowJob('XGBoostJob', 'xgbReplicaSpecs'),
  JAXJob: kubeflowJob('JAXJob', 'jaxReplicaSpecs'),
  PaddleJob: kubeflowJob('PaddleJob', 'paddleReplicaSpecs'),
  Notebook: {
    apiVersion: 'kubeflow.org/v1',
    resource: 'notebook.kubeflow.org',
    builtin: false,
    podSpecPath: () => template,
    // The Kubeflow notebook controller scales the notebook's StatefulSet to 0 while this annotation is set.
    stop: { path: ['metadata', 'annotations', 'kubeflow-resource-stopped'], value: 'mlcost' },
  },
  InferenceService: {
    apiVersion: 'serving.kserve.io/v1beta1',
    resource: 'inferenceservice.serving.kserve.io',
    builtin: false,
    // KServe inlines the PodSpec into the predictor: `spec.predictor.containers`, `spec.predictor.nodeSelector`.
    podSpecPath: () => ['spec', 'predictor'],
    replicasPath: ['spec', 'predictor', 'minReplicas'],
    stop: { path: ['spec', 'predictor', 'minReplicas'], value: 0 },
  },
  KnativeService: {
    apiVersion: 'serving.knative.dev/v1',
    resource: 'service.serving.knative.dev',
    builtin: false,
    podSpecPath: () => template,
    stop: {
      path: ['spec', 'template', 'metadata', 'annotations', 'autoscaling.knative.dev/min-scale'],
      value: '0',
    },
  },
};

/** The kind's paths; an unknown kind is treated as a custom resource with a `spec.template.spec` pod template. */
export function kindInfo(kind: string): KindInfo {
  return (
    KINDS[kind] ?? {
      // Unknown group and version: the patch names the resource by kind, as kubectl resolves it.
      apiVersion: '',
      resource: kind.toLowerCase(),
      builtin: false,
      podSpecPath: () => template,
    }
  );
}

/** Distributed training jobs (the Kubeflow training operator's kinds): no one works in them interactively. */
export const TRAINING_KINDS: ReadonlySet<string> = new Set(KUBEFLOW_TRAINING_KINDS);

/** Kinds whose pods run to completion: each run is its own object (a CronJob's runs are Jobs). */
export const RUN_TO_COMPLETION_KINDS: ReadonlySet<string> = new Set([...TRAINING_KINDS, 'Job']);
