import { describe, expect, it } from 'vitest';
import { replay, wouldBeOomKills } from './replay.ts';
import { containerWindow, GIB, MIB, windowsOf } from './test-support.ts';

describe('replay', () => {
  // 100 windows: CPU 10m … 1000m; memory 100 MiB … 1000 MiB (i × 10 MiB, i = 1..100).
  const windows = windowsOf(100, (i, start, end) =>
    containerWindow(start, end, { cpuAvg: (i + 1) * 0.01, memMax: (i + 1) * 10 * MIB }),
  );

  it('flags a memory proposal below the observed peak and counts the windows it would have killed', () => {
    // 950 MiB < the 1000 MiB peak; windows above 950 MiB: 960 … 1000 = 5.
    const result = replay(windows, { cpuCores: 1, memoryBytes: 950 * MIB }, 95);
    expect(result.memoryBelowPeak).toBe(true);
    expect(result.wouldBeOomKills).toBe(5);
    expect(result.ok).toBe(false);
  });

  it('allows CPU above the request in at most (100 − p)% of windows', () => {
    // 950m: windows above it are 960m … 1000m = 5 of 100 = 5% ≤ 5% → ok at p95.
    expect(replay(windows, { cpuCores: 0.95, memoryBytes: GIB }, 95)).toMatchObject({
      cpuExceedWindows: 5,
      cpuExceedShare: 0.05,
      ok: true,
    });
    // 940m: 6 of 100 = 6% > 5% → not ok.
    expect(replay(windows, { cpuCores: 0.94, memoryBytes: GIB }, 95).ok).toBe(false);
  });

  it('counts a recorded OOM kill as a would-be kill unless the proposal is above the limit it died at', () => {
    // One OOM kill at a 1 GiB limit (the window only shows 1 GiB used: it died there).
    const killed = windowsOf(10, (i, start, end) =>
      containerWindow(start, end, {
        memMax: i === 3 ? GIB : 500 * MIB,
        limitMemory: GIB,
        oomKilled: i >= 3,
        restarts: i >= 3 ? 1 : 0,
      }),
    );
    expect(wouldBeOomKills(killed, GIB)).toBe(1);
    expect(wouldBeOomKills(killed, 1.15 * GIB)).toBe(0);
  });
});
