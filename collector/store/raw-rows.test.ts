import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rawRowReader } from './raw-rows.ts';
import {
  CONTAINER_COLUMNS,
  containerRowOf,
  GPU_WINDOW_COLUMNS,
  gpuWindowRowOf,
  MODEL_COLUMNS,
  modelRowOf,
} from './rightsizing-rows.ts';
import { openStore } from './store.ts';

const dir = mkdtempSync(join(tmpdir(), 'mlcost-raw-rows-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A row whose every value is its own position, so each field can be checked to come from the column of its name. */
const positionsRow = (columns: readonly string[]): unknown[] => columns.map((_, index) => index);

describe('raw row readers', () => {
  // Each field must come from the column of its own name: a row whose values are their positions shows where.
  it.each([
    ['container', CONTAINER_COLUMNS, containerRowOf],
    ['gpu window', GPU_WINDOW_COLUMNS, gpuWindowRowOf],
    ['model', MODEL_COLUMNS, modelRowOf],
  ] as const)('%s rows take every field from the column of that name', (_, columns, make) => {
    const row = make(positionsRow(columns)) as unknown as Record<string, unknown>;
    const names: readonly string[] = columns;
    expect(Object.keys(row).sort()).toEqual([...names].sort());
    for (const [field, value] of Object.entries(row)) expect(value, field).toBe(names.indexOf(field));
  });

  it('reads the rows a plain statement reads, as the same objects', () => {
    const store = openStore(join(dir, 'same.sqlite'));
    const db = store.db;
    db.exec(`CREATE TABLE t (a TEXT, b REAL, c INTEGER);
      INSERT INTO t VALUES ('x', 1.5, NULL), ('y', NULL, 7);`);
    const reader = rawRowReader<{ min: number }, { a: string; b: number | null; c: number | null }>(
      db,
      'SELECT a, b, c FROM t WHERE rowid >= :min ORDER BY rowid',
      ['a', 'b', 'c'],
      (v) => ({ a: v[0] as string, b: v[1] as number | null, c: v[2] as number | null }),
    );
    const plain = db.prepare('SELECT a, b, c FROM t WHERE rowid >= :min ORDER BY rowid').all({ min: 1 });
    expect([...reader.iterate({ min: 1 })]).toEqual(plain);
    expect([...reader.iterate({ min: 2 })]).toEqual([{ a: 'y', b: null, c: 7 }]);
    store.close();
  });

  it('refuses a query whose columns are not the ones named, naming both', () => {
    const store = openStore(join(dir, 'refuse.sqlite'));
    store.db.exec('CREATE TABLE t (a TEXT, b REAL)');
    expect(() => rawRowReader(store.db, 'SELECT b, a FROM t', ['a', 'b'], (v) => v)).toThrow(
      "the query's columns (b, a) are not the expected a, b",
    );
    store.close();
  });
});
