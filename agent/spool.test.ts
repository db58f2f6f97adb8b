import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Spool, type SpoolEntry } from './spool.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'mlcost-spool-'));
const body = (n: number) => new Uint8Array(n).fill(7);

describe('Spool', () => {
  it('keeps batches in sequence order across a restart', () => {
    const path = dir();
    const first = new Spool({ dir: path, maxBytes: 10_000, maxAgeMs: 60_000 });
    first.append(2, 1, body(10), 1_000);
    first.append(3, 1, body(10), 2_000);
    const again = new Spool({ dir: path, maxBytes: 10_000, maxAgeMs: 60_000 });
    expect(again.oldest(2_500)?.sequence).toBe(2);
    expect(again.size).toEqual({ batches: 2, bytes: 20, windows: 2 });
    expect(Buffer.from(again.read(again.oldest(2_500)!))).toEqual(Buffer.from(body(10)));
  });

  it('drops the oldest first when over its byte bound and reports each window dropped', () => {
    const dropped: Array<[number, number, string]> = [];
    const spool = new Spool({
      dir: dir(),
      maxBytes: 250,
      maxAgeMs: 3_600_000,
      onDrop: (e: SpoolEntry, reason) => dropped.push([e.sequence, e.windows, reason]),
    });
    // five batches of 100 bytes with 2 windows each into 250 bytes: after each append the total must be ≤ 250,
    // so only the newest two fit; batches 0, 1 and 2 (6 windows) are dropped, oldest first.
    for (let seq = 0; seq < 5; seq++) spool.append(seq, 2, body(100), 1_000 + seq);
    expect(dropped).toEqual([
      [0, 2, 'bytes'],
      [1, 2, 'bytes'],
      [2, 2, 'bytes'],
    ]);
    expect(spool.size).toEqual({ batches: 2, bytes: 200, windows: 4 });
    expect(spool.oldest(2_000)?.sequence).toBe(3);
  });

  it('drops batches older than its age bound', () => {
    const dropped: number[] = [];
    const spool = new Spool({
      dir: dir(),
      maxBytes: 1e9,
      maxAgeMs: 1_000,
      onDrop: (e) => dropped.push(e.sequence),
    });
    spool.append(0, 1, body(1), 0);
    spool.append(1, 1, body(1), 900);
    // at t=1500, batch 0 is 1500 ms old (> 1000): dropped; batch 1 is 600 ms old: kept.
    expect(spool.oldest(1_500)?.sequence).toBe(1);
    expect(dropped).toEqual([0]);
  });

  it('acknowledges by deleting and moves rejected batches to dead-letter', () => {
    const path = dir();
    const spool = new Spool({ dir: path, maxBytes: 1e9, maxAgeMs: 1e9, maxDeadLetters: 1 });
    const a = spool.append(0, 1, body(1));
    const b = spool.append(1, 1, body(1));
    const c = spool.append(2, 1, body(1));
    spool.acknowledge(a);
    expect(existsSync(a.file)).toBe(false);
    spool.deadLetter(b);
    spool.deadLetter(c);
    // only the newest dead letter is kept (maxDeadLetters 1)
    expect(readdirSync(join(path, 'dead-letter'))).toEqual([c.file.slice(c.file.lastIndexOf('/') + 1)]);
    expect(spool.oldest()).toBeUndefined();
  });

  it('discards a half-written temporary file left by a crash', () => {
    const path = dir();
    writeFileSync(join(path, '0000000000000007-1700000000000-1.batch.gz.tmp'), 'partial');
    const spool = new Spool({ dir: path, maxBytes: 1e9, maxAgeMs: 1e9 });
    expect(spool.size.batches).toBe(0);
    expect(readdirSync(path).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});
