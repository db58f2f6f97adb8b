// The "simulated" label of API answers: whether the figures of an answer come from nodes that `mlcost simulate` made
// (their agent marked them simulated; the store keeps the mark per node). An answer is labelled by the range its
// figures cover: `simulated: true` when any simulated node has data in that range. JSON answers carry the label as
// a field, CSV answers as a `simulated` column, and every labelled answer as the `mlcost-simulated` response header
// (the one place a fixed-format answer such as the FOCUS export can carry it).
import type { Store } from '../store/store.ts';

/** Response header naming whether the answer's figures come from simulated nodes: `true` or `false`. */
export const SIMULATED_HEADER = 'mlcost-simulated';

const HOUR = 3_600_000;

export interface SimulatedLabel {
  /** True when any node behind the answer's range is simulated. */
  readonly simulated: boolean;
  /** The simulated nodes with data in the range. */
  readonly nodes: ReadonlySet<string>;
  /**
   * The label of one row: whether its node is simulated when the row belongs to one node; for a row over several
   * nodes (or none named), the answer's own label — a row is never called real while the answer is not.
   */
  row(node: string | undefined): boolean;
  /** `{ 'mlcost-simulated': 'true' | 'false' }`, for the response. */
  readonly headers: Record<string, string>;
}

/** The label of an answer whose figures cover [start, end) (epoch ms). */
export function simulatedLabel(store: Store, range: { start: number; end: number }): SimulatedLabel {
  const nodes: ReadonlySet<string> = new Set(store.nodes.simulatedNodesIn(range.start, range.end));
  const simulated = nodes.size > 0;
  return {
    simulated,
    nodes,
    row: (node) => (node === undefined ? simulated : nodes.has(node)),
    headers: { [SIMULATED_HEADER]: String(simulated) },
  };
}

/** The whole hours [start, end) overlaps: the range an hourly answer (the FOCUS export) reads. */
export function wholeHours(range: { start: number; end: number }): { start: number; end: number } {
  return { start: Math.floor(range.start / HOUR) * HOUR, end: Math.ceil(range.end / HOUR) * HOUR };
}

/** The UTC month to date at `asOf` (the month of the hour ending at `asOf`): the range budgets are spent over. */
export function monthToDate(asOf: number): { start: number; end: number } {
  const at = new Date(asOf - 1);
  return { start: Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1), end: asOf };
}
