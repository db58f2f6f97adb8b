// The `simulated` label over a real store (a temporary SQLite file): which simulated nodes have data in a range
// (a window belongs to the range its start falls in), how rows are labelled, what survives retention, and the
// ranges of budgets and the FOCUS export. Every expectation is worked out from the windows written here.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Batch, UsageWindow } from '../../core/protocol/batch.ts';
import { openStore, type Store } from '../store/store.ts';
import { monthToDate, SIMULATED_HEADER, simulatedLabel, wholeHours } from './simulated.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** 2026-11-02 10:00 UTC. */
const H = Date.UTC(2026, 10, 2, 10);

let dir: string;
let store: Store;
let sequence = 0;

/** One 30-minute window of `node` starting at `start`. */
function window(node: string, start: number, simulated: boolean): UsageWindow {
  return {
    start: new Date(start).toISOString(),
    end: new Date(start + 30 * MINUTE).toISOString(),
    node: { name: node, capacity: { cpuCores: 8, memoryBytes: 2 ** 34 }, labels: {}, simulated },
    gpus: [],
    containers: [],
    models: [],
  };
}

function write(windows: UsageWindow[]): void {
  const batch: Batch = {
    schemaVersion: 1,
    agentId: windows[0]!.node.name,
    sequence: sequence++,
    sentAt: windows.at(-1)!.end,
    windows,
  };
  store.writeBatch(batch, Date.parse(windows.at(-1)!.end));
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlcost-simulated-'));
  store = openStore(join(dir, 'mlcost.db'));
  // real-1: 10:00–11:00 (two windows). sim-1: 10:30–12:00 (windows starting 10:30, 11:00, 11:30).
  // sim-2: 13:00–13:30 only.
  write([window('real-1', H, false), window('real-1', H + 30 * MINUTE, false)]);
  write([30, 60, 90].map((m) => window('sim-1', H + m * MINUTE, true)));
  write([window('sim-2', H + 3 * HOUR, true)]);
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const names = (from: number, to: number) => store.nodes.simulatedNodesIn(from, to);

describe('simulatedNodesIn', () => {
  it('names the simulated nodes with a window starting in [from, to), never a real one', () => {
    expect(store.nodes.anySimulated()).toBe(true);
    // 10:00–10:30: only real-1 has a window starting there.
    expect(names(H, H + 30 * MINUTE)).toEqual([]);
    // 10:00–10:31 takes in sim-1's first window (start 10:30).
    expect(names(H, H + 31 * MINUTE)).toEqual(['sim-1']);
    // 11:59–13:00: sim-1's last window starts at 11:30, before the range, though it ends at 12:00 inside it;
    // sim-2's starts at 13:00, the range's (excluded) end.
    expect(names(H + 119 * MINUTE, H + 3 * HOUR)).toEqual([]);
    expect(names(H + 90 * MINUTE, H + 3 * HOUR + 1)).toEqual(['sim-1', 'sim-2']);
    // The whole day.
    expect(names(H - 10 * HOUR, H + 14 * HOUR)).toEqual(['sim-1', 'sim-2']);
    // An empty or reversed range.
    expect(names(H + HOUR, H + HOUR)).toEqual([]);
    expect(names(H + 2 * HOUR, H)).toEqual([]);
  });

  it('counts a gap between a node’s first and last windows as covered', () => {
    write([window('sim-2', H + 6 * HOUR, true)]);
    // sim-2 has windows at 13:00 and 16:00; 14:00–15:00 lies between them.
    expect(names(H + 4 * HOUR, H + 5 * HOUR)).toEqual(['sim-2']);
  });

  it('still knows a node once retention has pruned its windows (the cost roll-ups outlive them)', () => {
    // Everything that ended by 12:00 goes: sim-1 keeps no window; its nodes row still spans its first window's end
    // (11:00) to its last one's (12:00).
    store.pruneBefore(H + 2 * HOUR);
    expect(names(H + 60 * MINUTE, H + 61 * MINUTE)).toEqual(['sim-1']);
    expect(names(H + 119 * MINUTE, H + 2 * HOUR)).toEqual(['sim-1']);
    expect(names(H + 2 * HOUR, H + 3 * HOUR)).toEqual([]);
    expect(names(H + 3 * HOUR, H + 4 * HOUR)).toEqual(['sim-2']);
  });

  it('knows no simulated node in a store of real ones', () => {
    const realDir = mkdtempSync(join(tmpdir(), 'mlcost-simulated-real-'));
    const real = openStore(join(realDir, 'mlcost.db'));
    try {
      real.writeBatch(
        {
          schemaVersion: 1,
          agentId: 'a',
          sequence: 0,
          sentAt: new Date(H).toISOString(),
          windows: [window('n', H, false)],
        },
        H,
      );
      expect(real.nodes.anySimulated()).toBe(false);
      expect(real.nodes.simulatedNodesIn(0, H + HOUR)).toEqual([]);
    } finally {
      real.close();
      rmSync(realDir, { recursive: true, force: true });
    }
  });
});

describe('simulatedLabel', () => {
  it('labels the answer, each row by its node, and a row over several nodes by the answer', () => {
    const label = simulatedLabel(store, { start: H, end: H + 2 * HOUR });
    expect(label.simulated).toBe(true);
    expect([...label.nodes]).toEqual(['sim-1']);
    expect(label.row('sim-1')).toBe(true);
    expect(label.row('real-1')).toBe(false);
    // sim-2 has no data in this range.
    expect(label.row('sim-2')).toBe(false);
    expect(label.row(undefined)).toBe(true);
    expect(label.headers).toEqual({ [SIMULATED_HEADER]: 'true' });

    const real = simulatedLabel(store, { start: H, end: H + 30 * MINUTE });
    expect(real.simulated).toBe(false);
    expect(real.row(undefined)).toBe(false);
    expect(real.headers).toEqual({ 'mlcost-simulated': 'false' });
  });
});

describe('ranges', () => {
  it('wholeHours widens a range to the hours it overlaps', () => {
    expect(wholeHours({ start: H + 10 * MINUTE, end: H + 70 * MINUTE })).toEqual({
      start: H,
      end: H + 2 * HOUR,
    });
    expect(wholeHours({ start: H, end: H + HOUR })).toEqual({ start: H, end: H + HOUR });
  });

  it('monthToDate is the UTC month of the hour ending at asOf', () => {
    expect(monthToDate(H)).toEqual({ start: Date.UTC(2026, 10, 1), end: H });
    // At midnight on 1 December the hour that just ended is November's last.
    const december = Date.UTC(2026, 11, 1);
    expect(monthToDate(december)).toEqual({ start: Date.UTC(2026, 10, 1), end: december });
    expect(monthToDate(december + HOUR)).toEqual({ start: december, end: december + HOUR });
  });
});
