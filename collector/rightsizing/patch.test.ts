import { describe, expect, it } from 'vitest';
import { containerPatch, podSpecPatch, scalePatch, stopPatch } from './patch.ts';
import { workload } from './test-support.ts';

describe('patches', () => {
  it('finds the pod template of each kind', () => {
    // CronJob: spec.jobTemplate.spec.template.spec, strategic.
    expect(containerPatch(workload('CronJob', 'nightly'), 'etl', { requests: { cpu: '250m' } }).body).toEqual(
      {
        spec: {
          jobTemplate: {
            spec: {
              template: { spec: { containers: [{ name: 'etl', resources: { requests: { cpu: '250m' } } }] } },
            },
          },
        },
      },
    );
    // TFJob parameter server, container 2: the replica type label `ps` is the spec key `PS`.
    const tf = containerPatch(
      workload('TFJob', 'mnist'),
      'tensorflow',
      { limits: { memory: '4Gi' } },
      { replicaType: 'ps', containerIndex: 2 },
    );
    expect(tf.body).toEqual([
      { op: 'test', path: '/spec/tfReplicaSpecs/PS/template/spec/containers/2/name', value: 'tensorflow' },
      {
        op: 'add',
        path: '/spec/tfReplicaSpecs/PS/template/spec/containers/2/resources/limits/memory',
        value: '4Gi',
      },
    ]);
    // InferenceService: the predictor's model resources, merged.
    expect(
      containerPatch(workload('InferenceService', 'llm'), 'kserve-container', { requests: { cpu: '2' } })
        .body,
    ).toEqual({
      spec: { predictor: { model: { resources: { requests: { cpu: '2' } } } } },
    });
    // A PyTorchJob master's nodeSelector: an object, so a merge patch.
    const selector = podSpecPatch(
      workload('PyTorchJob', 'bert'),
      { nodeSelector: { a: 'b' } },
      { replicaType: 'master' },
    );
    expect(selector.type).toBe('merge');
    expect(selector.body).toEqual({
      spec: { pytorchReplicaSpecs: { Master: { template: { spec: { nodeSelector: { a: 'b' } } } } } },
    });
  });

  it('stops each kind the way it can be stopped', () => {
    expect(stopPatch(workload('StatefulSet', 'db')).body).toEqual({ spec: { replicas: 0 } });
    expect(stopPatch(workload('Job', 'once')).body).toEqual({ spec: { suspend: true } });
    expect(stopPatch(workload('PyTorchJob', 'bert')).body).toEqual({
      spec: { runPolicy: { suspend: true } },
    });
    expect(stopPatch(workload('DaemonSet', 'agent')).body).toEqual({
      spec: { template: { spec: { nodeSelector: { 'mlcost.io/stopped': 'true' } } } },
    });
    expect(scalePatch(workload('KnativeService', 'fn'), 0).body).toEqual({
      spec: { template: { metadata: { annotations: { 'autoscaling.knative.dev/min-scale': '0' } } } },
    });
    const pod = stopPatch(workload('Pod', 'stray'));
    expect(pod.type).toBe('delete');
    expect(pod.command).toBe('kubectl delete pod stray -n team-a');
  });
});
