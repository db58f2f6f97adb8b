// The models the simulated inference services serve, with the traffic shape each sees.
//
// Token counts per request follow the two classes of the public Azure LLM inference trace 2023 (Patel et al.,
// "Splitwise", ISCA 2024): conversation requests have prompts of roughly a thousand tokens and outputs of a few
// hundred; code-completion requests have longer prompts (~1.5-2k) and very short outputs. Approximately; the
// simulator only needs the right order of magnitude and the contrast between the two.

export interface LlmModel {
  /** The served model name vLLM reports in `model_name`. */
  name: string;
  /** Short name used in InferenceService names. */
  short: string;
  promptTokensMean: number;
  outputTokensMean: number;
  /** Seconds per generated token (decode) and to the first token, at light load. */
  secondsPerToken: number;
  secondsToFirstToken: number;
  /** Requests per second one replica serves at the daily peak. */
  peakRequestsPerSecond: [number, number];
}

export const LLAMA_70B: LlmModel = {
  name: 'meta-llama/Llama-3.1-70B-Instruct',
  short: 'llama-70b',
  promptTokensMean: 1000,
  outputTokensMean: 250,
  secondsPerToken: 0.035,
  secondsToFirstToken: 0.45,
  peakRequestsPerSecond: [1.5, 5],
};

export const LLAMA_8B: LlmModel = {
  name: 'meta-llama/Llama-3.1-8B-Instruct',
  short: 'llama-8b',
  promptTokensMean: 1000,
  outputTokensMean: 200,
  secondsPerToken: 0.02,
  secondsToFirstToken: 0.2,
  peakRequestsPerSecond: [3, 10],
};

export const QWEN_CODER_7B: LlmModel = {
  name: 'Qwen/Qwen2.5-Coder-7B-Instruct',
  short: 'qwen-coder-7b',
  promptTokensMean: 1800,
  outputTokensMean: 25,
  secondsPerToken: 0.02,
  secondsToFirstToken: 0.25,
  peakRequestsPerSecond: [4, 12],
};

export const PHI3_MINI: LlmModel = {
  name: 'microsoft/Phi-3-mini-4k-instruct',
  short: 'phi3-mini',
  promptTokensMean: 800,
  outputTokensMean: 150,
  secondsPerToken: 0.015,
  secondsToFirstToken: 0.12,
  peakRequestsPerSecond: [3, 9],
};

export const QWEN_05B: LlmModel = {
  name: 'Qwen/Qwen2.5-0.5B-Instruct',
  short: 'qwen-05b',
  promptTokensMean: 600,
  outputTokensMean: 80,
  secondsPerToken: 0.008,
  secondsToFirstToken: 0.05,
  peakRequestsPerSecond: [2, 8],
};

/** Models a Triton server hosts, two per server (one for the embedding service), with inferences per second. */
export interface TritonModelSet {
  models: string[];
  peakRequestsPerSecond: [number, number];
  /** Seconds per inference, end to end at light load. */
  secondsPerRequest: number;
  /** Framebuffer the loaded models take, MiB. */
  gpuMemoryMiB: number;
}

export const TRITON_SETS: readonly TritonModelSet[] = [
  {
    models: ['resnet50', 'yolov8n'],
    peakRequestsPerSecond: [40, 150],
    secondsPerRequest: 0.012,
    gpuMemoryMiB: 3100,
  },
  {
    models: ['bert-base-ner', 'distilbert-sst2'],
    peakRequestsPerSecond: [30, 120],
    secondsPerRequest: 0.009,
    gpuMemoryMiB: 2600,
  },
  {
    models: ['ocr-detector', 'ocr-recognizer'],
    peakRequestsPerSecond: [10, 60],
    secondsPerRequest: 0.03,
    gpuMemoryMiB: 4200,
  },
];

/** The embedding service: one small model on a whole GPU it barely uses (a planted sliceable GPU user). */
export const EMBEDDING_SET: TritonModelSet = {
  models: ['bge-base-en-v1.5'],
  peakRequestsPerSecond: [8, 30],
  secondsPerRequest: 0.015,
  gpuMemoryMiB: 1900,
};
