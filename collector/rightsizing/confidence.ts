// How sure a recommendation is, from how long and how densely the workload was watched.
import type { Confidence, ConfidenceLabel } from './types.ts';

/**
 * days/(days+1) × min(1, points/fullPoints). The first factor is the inverse of the VPA recommender's upper-bound
 * blow-up (1 + 1/days): 1 day → 0.5, 3 days → 0.75, 7 days → 0.88, 14 days → 0.93. The second says a long but
 * sparse history (a job that ran twice) is known less well than a dense one.
 */
export function confidenceOf(historyHours: number, points: number, fullPoints: number): Confidence {
  const days = Math.max(0, historyHours) / 24;
  const value = (days / (days + 1)) * Math.min(1, points / Math.max(1, fullPoints));
  return labelled(value);
}

export function labelled(value: number): Confidence {
  const rounded = Math.round(Math.min(1, Math.max(0, value)) * 100) / 100;
  const label: ConfidenceLabel = rounded >= 0.75 ? 'high' : rounded >= 0.5 ? 'medium' : 'low';
  return { value: rounded, label };
}
