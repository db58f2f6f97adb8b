// A large synthetic scrape in the shape of what the collector and agent meet at scale: a federated
// dcgm-exporter section (per-GPU series with the exporter's full label set and the pod labels it adds) and a
// kube-state-metrics section (per-pod info, phase, requests/limits, restarts, labels). Deterministic: the same
// size always gives the same text, so runs compare.

const DCGM_FIELDS: ReadonlyArray<[name: string, type: 'gauge' | 'counter', help: string]> = [
  ['DCGM_FI_DEV_SM_CLOCK', 'gauge', 'SM clock frequency (in MHz).'],
  ['DCGM_FI_DEV_MEM_CLOCK', 'gauge', 'Memory clock frequency (in MHz).'],
  ['DCGM_FI_DEV_MEMORY_TEMP', 'gauge', 'Memory temperature (in C).'],
  ['DCGM_FI_DEV_GPU_TEMP', 'gauge', 'GPU temperature (in C).'],
  ['DCGM_FI_DEV_POWER_USAGE', 'gauge', 'Power draw (in W).'],
  ['DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION', 'counter', 'Total energy consumption since boot (in mJ).'],
  ['DCGM_FI_DEV_PCIE_REPLAY_COUNTER', 'counter', 'Total number of PCIe retries.'],
  ['DCGM_FI_DEV_GPU_UTIL', 'gauge', 'GPU utilization (in %).'],
  ['DCGM_FI_DEV_MEM_COPY_UTIL', 'gauge', 'Memory utilization (in %).'],
  ['DCGM_FI_DEV_ENC_UTIL', 'gauge', 'Encoder utilization (in %).'],
  ['DCGM_FI_DEV_DEC_UTIL', 'gauge', 'Decoder utilization (in %).'],
  ['DCGM_FI_DEV_XID_ERRORS', 'gauge', 'Value of the last XID error encountered.'],
  ['DCGM_FI_DEV_FB_FREE', 'gauge', 'Framebuffer memory free (in MiB).'],
  ['DCGM_FI_DEV_FB_USED', 'gauge', 'Framebuffer memory used (in MiB).'],
  ['DCGM_FI_DEV_FB_RESERVED', 'gauge', 'Framebuffer memory reserved (in MiB).'],
  ['DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL', 'counter', 'Total number of NVLink bandwidth counters.'],
  ['DCGM_FI_DEV_VGPU_LICENSE_STATUS', 'gauge', 'vGPU License status'],
  ['DCGM_FI_PROF_GR_ENGINE_ACTIVE', 'gauge', 'Ratio of time the graphics engine is active.'],
  ['DCGM_FI_PROF_SM_ACTIVE', 'gauge', 'The ratio of cycles an SM has at least 1 warp assigned.'],
  ['DCGM_FI_PROF_SM_OCCUPANCY', 'gauge', 'The ratio of number of warps resident on an SM.'],
  ['DCGM_FI_PROF_PIPE_TENSOR_ACTIVE', 'gauge', 'Ratio of cycles the tensor (HMMA) pipe is active.'],
  ['DCGM_FI_PROF_DRAM_ACTIVE', 'gauge', 'Ratio of cycles the device memory interface is active.'],
  ['DCGM_FI_PROF_PCIE_TX_BYTES', 'gauge', 'The rate of data transmitted over the PCIe bus.'],
  ['DCGM_FI_PROF_PCIE_RX_BYTES', 'gauge', 'The rate of data received over the PCIe bus.'],
];

const PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'];
const NAMESPACES = ['ml-training', 'ml-serving', 'notebooks', 'data-pipelines', 'kube-system', 'monitoring'];

function hex(value: number, width: number): string {
  return (value >>> 0).toString(16).padStart(width, '0').slice(-width);
}

function gpuUuid(node: number, gpu: number): string {
  const seed = node * 8 + gpu;
  return `GPU-${hex(seed * 2654435761, 8)}-${hex(seed, 4)}-${hex(seed * 7, 4)}-${hex(seed * 13, 4)}-${hex(seed * 40503, 8)}${hex(node, 4)}`;
}

function podUid(pod: number): string {
  return `${hex(pod * 2246822519, 8)}-${hex(pod, 4)}-4${hex(pod * 3, 3)}-8${hex(pod * 5, 3)}-${hex(pod * 3266489917, 8)}${hex(pod, 4)}`;
}

/** Samples of the dcgm-exporter section: nodes × 8 GPUs × 24 fields. */
function dcgmSection(nodes: number, out: string[]): number {
  let samples = 0;
  for (const [field, type, help] of DCGM_FIELDS) {
    out.push(`# HELP ${field} ${help}\n# TYPE ${field} ${type}\n`);
    for (let node = 0; node < nodes; node++) {
      const hostname = `ip-10-${(node >> 8) & 255}-${node & 255}-17.ec2.internal`;
      for (let gpu = 0; gpu < 8; gpu++) {
        const busy = (node + gpu) % 5 !== 0;
        const pod = busy
          ? `,container="trainer",namespace="ml-training",pod="llm-pretrain-worker-${node * 2 + (gpu >> 2)}"`
          : ',container="",namespace="",pod=""';
        const value =
          type === 'counter'
            ? (node * 7919 + gpu * 104729) * 1000 + 123
            : ((node * 31 + gpu * 17) % 997) / 10;
        out.push(
          `${field}{gpu="${gpu}",UUID="${gpuUuid(node, gpu)}",pci_bus_id="00000000:${hex(0x10 + gpu * 0x10, 2).toUpperCase()}:00.0",device="nvidia${gpu}",modelName="NVIDIA H100 80GB HBM3",Hostname="${hostname}",DCGM_FI_DRIVER_VERSION="580.105.08"${pod}} ${value}\n`,
        );
        samples++;
      }
    }
  }
  return samples;
}

/** Samples of the kube-state-metrics section: 12 per pod. */
function ksmSection(pods: number, out: string[]): number {
  let samples = 0;
  const podLabels = (i: number) => {
    const namespace = NAMESPACES[i % NAMESPACES.length]!;
    return { namespace, pod: `workload-${Math.floor(i / 3)}-7d9f8c6b5-${hex(i * 48271, 5)}`, uid: podUid(i) };
  };
  const node = (i: number) => `ip-10-0-${(i >> 7) & 255}-${i & 127}.ec2.internal`;
  const family = (name: string, type: string, help: string, line: (i: number) => string) => {
    out.push(`# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`);
    for (let i = 0; i < pods; i++) out.push(line(i));
  };
  family('kube_pod_info', 'gauge', '[STABLE] Information about pod.', (i) => {
    const p = podLabels(i);
    samples++;
    return `kube_pod_info{namespace="${p.namespace}",pod="${p.pod}",uid="${p.uid}",host_ip="10.0.${(i >> 7) & 255}.${i & 127}",pod_ip="100.64.${(i >> 8) & 255}.${i & 255}",node="${node(i)}",created_by_kind="ReplicaSet",created_by_name="workload-${Math.floor(i / 3)}-7d9f8c6b5",priority_class="",host_network="false"} 1\n`;
  });
  out.push(
    '# HELP kube_pod_status_phase [STABLE] The pods current phase.\n# TYPE kube_pod_status_phase gauge\n',
  );
  for (let i = 0; i < pods; i++) {
    const p = podLabels(i);
    for (const phase of PHASES) {
      out.push(
        `kube_pod_status_phase{namespace="${p.namespace}",pod="${p.pod}",uid="${p.uid}",phase="${phase}"} ${phase === 'Running' ? 1 : 0}\n`,
      );
      samples++;
    }
  }
  out.push(
    '# HELP kube_pod_container_resource_requests The number of requested request resource by a container.\n# TYPE kube_pod_container_resource_requests gauge\n',
  );
  for (let i = 0; i < pods; i++) {
    const p = podLabels(i);
    const base = `namespace="${p.namespace}",pod="${p.pod}",uid="${p.uid}",container="main",node="${node(i)}"`;
    out.push(`kube_pod_container_resource_requests{${base},resource="cpu",unit="core"} 0.${(i % 9) + 1}\n`);
    out.push(
      `kube_pod_container_resource_requests{${base},resource="memory",unit="byte"} ${(1 + (i % 16)) * 268435456}\n`,
    );
    samples += 2;
  }
  family(
    'kube_pod_container_resource_limits',
    'gauge',
    'The number of requested limit resource by a container.',
    (i) => {
      const p = podLabels(i);
      samples++;
      return `kube_pod_container_resource_limits{namespace="${p.namespace}",pod="${p.pod}",uid="${p.uid}",container="main",node="${node(i)}",resource="memory",unit="byte"} ${(2 + (i % 16)) * 268435456}\n`;
    },
  );
  family(
    'kube_pod_container_status_restarts_total',
    'counter',
    '[STABLE] The number of container restarts per container.',
    (i) => {
      const p = podLabels(i);
      samples++;
      return `kube_pod_container_status_restarts_total{namespace="${p.namespace}",pod="${p.pod}",uid="${p.uid}",container="main"} ${i % 4}\n`;
    },
  );
  family('kube_pod_labels', 'gauge', '[STABLE] Kubernetes labels converted to Prometheus labels.', (i) => {
    const p = podLabels(i);
    samples++;
    return `kube_pod_labels{namespace="${p.namespace}",pod="${p.pod}",uid="${p.uid}",label_app="workload-${Math.floor(i / 3)}",label_pod_template_hash="7d9f8c6b5",label_team="team-${i % 11}"} 1\n`;
  });
  family('kube_pod_owner', 'gauge', '[STABLE] Information about the Pod owner.', (i) => {
    const p = podLabels(i);
    samples++;
    return `kube_pod_owner{namespace="${p.namespace}",pod="${p.pod}",uid="${p.uid}",owner_kind="ReplicaSet",owner_name="workload-${Math.floor(i / 3)}-7d9f8c6b5",owner_is_controller="true"} 1\n`;
  });
  return samples;
}

/**
 * About `targetSamples` samples (exactly the count returned): a quarter dcgm-exporter series, the rest
 * kube-state-metrics series.
 */
export function syntheticScrape(targetSamples: number): { text: string; samples: number } {
  const out: string[] = [];
  const dcgmNodes = Math.max(1, Math.round(targetSamples / 4 / (8 * DCGM_FIELDS.length)));
  let samples = dcgmSection(dcgmNodes, out);
  const pods = Math.max(1, Math.round((targetSamples - samples) / 12));
  samples += ksmSection(pods, out);
  return { text: out.join(''), samples };
}
