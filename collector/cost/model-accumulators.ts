// What a served model's cost is summed into, per model and namespace: its runtime, pods, tokens and requests, and
// its cost sums. The pure model (models.ts) sums allocations; the service (cost-service.ts) sums through its idle
// sharing groups; both keep their accumulators here so they are made and named alike.

export interface ModelAccumulator<S> {
  model: string;
  namespace: string;
  /** The first runtime seen for the model (`vllm`, `triton`, …); null while only its pods' identity named it. */
  server: string | null;
  /** `namespace/pod` of each serving pod. */
  pods: Set<string>;
  sums: S;
  promptTokens: number;
  generatedTokens: number;
  requestsOk: number;
  requestsFailed: number;
}

export class ModelAccumulators<S> {
  private readonly byKey = new Map<string, ModelAccumulator<S>>();

  /** `makeSums` starts a model's cost sums, spanning [start, end) until more is added. */
  constructor(private readonly makeSums: (model: string, start: number, end: number) => S) {}

  /**
   * The model's accumulator in the namespace, made when first met: the order models are first met orders models of
   * equal cost in an answer. A runtime met later fills one not known before.
   */
  of(
    model: string,
    namespace: string,
    server: string | null,
    start: number,
    end: number,
  ): ModelAccumulator<S> {
    const key = `${namespace}|${model}`;
    let acc = this.byKey.get(key);
    if (!acc) {
      acc = {
        model,
        namespace,
        server,
        pods: new Set(),
        sums: this.makeSums(model, start, end),
        promptTokens: 0,
        generatedTokens: 0,
        requestsOk: 0,
        requestsFailed: 0,
      };
      this.byKey.set(key, acc);
    }
    if (acc.server === null && server !== null) acc.server = server;
    return acc;
  }

  /** The accumulator already made for the model in the namespace. */
  find(namespace: string, model: string): ModelAccumulator<S> | undefined {
    return this.byKey.get(`${namespace}|${model}`);
  }

  values(): IterableIterator<ModelAccumulator<S>> {
    return this.byKey.values();
  }
}
