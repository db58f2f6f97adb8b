// The collector's store: one SQLite file and the writers and queries over it, behind one handle.
import { statSync } from 'node:fs';
import { type BatchWriter, createBatchWriter } from './batch-writer.ts';
import { type Db, openDatabase } from './database.ts';
import { createNodeQueries, type NodeQueries } from './node-queries.ts';
import { createRetention } from './retention.ts';

export interface Store {
  readonly db: Db;
  readonly file: string;
  writeBatch: BatchWriter;
  nodes: NodeQueries;
  /** Deletes window records that ended at or before `cutoff`; returns how many rows went. */
  pruneBefore(cutoff: number): number;
  /** Bytes on disk: the database file plus its WAL. */
  sizeBytes(): number;
  /** True when a trivial query answers: the readiness check. */
  ping(): boolean;
  close(): void;
}

export function openStore(file: string): Store {
  const db = openDatabase(file);
  const ping = db.prepare('SELECT 1 AS ok');
  return {
    db,
    file,
    writeBatch: createBatchWriter(db),
    nodes: createNodeQueries(db),
    pruneBefore: createRetention(db),
    sizeBytes() {
      if (file === ':memory:') return 0;
      let total = 0;
      for (const path of [file, `${file}-wal`]) {
        try {
          total += statSync(path).size;
        } catch {
          // the WAL may not exist between checkpoints
        }
      }
      return total;
    },
    ping() {
      try {
        return (ping.get() as { ok: number }).ok === 1;
      } catch {
        return false;
      }
    },
    close() {
      if (db.open) {
        db.pragma('wal_checkpoint(TRUNCATE)');
        db.close();
      }
    },
  };
}
