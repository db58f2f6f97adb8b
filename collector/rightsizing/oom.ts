// OOM kills as events: the stored flag is sticky (the container's *last* termination was an OOM kill), so an event
// is a window whose flag turned on, or whose restart count rose while it was on.
import type { ContainerWindow } from './types.ts';

/** The windows in which an OOM kill happened, per pod, in time order. */
export function oomEvents(windows: readonly ContainerWindow[]): ContainerWindow[] {
  const byPod = new Map<string, ContainerWindow[]>();
  for (const window of windows) {
    const list = byPod.get(window.pod);
    if (list) list.push(window);
    else byPod.set(window.pod, [window]);
  }
  const events: ContainerWindow[] = [];
  for (const list of byPod.values()) {
    list.sort((a, b) => a.start - b.start);
    let previous: ContainerWindow | undefined;
    for (const window of list) {
      if (window.oomKilled) {
        const turnedOn = !previous?.oomKilled;
        const restarted = (window.restarts ?? 0) > (previous?.restarts ?? 0);
        if (turnedOn || restarted) events.push(window);
      }
      previous = window;
    }
  }
  return events.sort((a, b) => a.start - b.start);
}

/** The memory the container was killed at: its limit then, else the most it was seen using. */
export const killedAt = (window: ContainerWindow) =>
  window.limitMemory ?? window.memMax ?? window.requestMemory ?? 0;
