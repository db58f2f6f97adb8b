// The agent's on-disk spool: every batch is written here (gzip, the exact body sent to the collector) before it is
// sent, and removed only once the collector has acknowledged it. Bounded by bytes and by age; when over a bound the
// oldest batches go first and every window dropped is reported. A batch the collector refuses as invalid is moved
// to dead-letter/ instead of being retried forever.
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

export interface SpoolEntry {
  sequence: number;
  /** When the batch was spooled, ms since the epoch. */
  createdAt: number;
  windows: number;
  bytes: number;
  file: string;
}

export interface SpoolOptions {
  dir: string;
  maxBytes: number;
  maxAgeMs: number;
  /** Dead-letter batches kept for inspection; the oldest are deleted beyond this. */
  maxDeadLetters?: number;
  /** Told of every batch dropped for a bound, with its window count, so drops are counted and logged. */
  onDrop?: (entry: SpoolEntry, reason: 'bytes' | 'age') => void;
}

// <sequence>-<createdAt>-<windows>.batch.gz: everything needed to order, expire and count without reading files.
const FILE_NAME = /^(\d{16})-(\d{13,})-(\d+)\.batch\.gz$/;

export class Spool {
  private readonly entries: SpoolEntry[] = [];
  private totalBytes = 0;
  private readonly deadLetterDir: string;
  /** The batch being delivered: never dropped for a bound while the collector may be storing it. */
  private pinned?: SpoolEntry;

  constructor(private readonly options: SpoolOptions) {
    mkdirSync(options.dir, { recursive: true });
    this.deadLetterDir = join(options.dir, 'dead-letter');
    mkdirSync(this.deadLetterDir, { recursive: true });
    for (const name of readdirSync(options.dir)) {
      if (name.endsWith('.tmp')) {
        unlinkSync(join(options.dir, name)); // a write cut short by a crash: never acknowledged, never counted
        continue;
      }
      const match = FILE_NAME.exec(name);
      if (!match) continue;
      const file = join(options.dir, name);
      const bytes = statSync(file).size;
      this.entries.push({
        sequence: Number(match[1]),
        createdAt: Number(match[2]),
        windows: Number(match[3]),
        bytes,
        file,
      });
      this.totalBytes += bytes;
    }
    this.entries.sort((a, b) => a.sequence - b.sequence);
  }

  get size(): { batches: number; bytes: number; windows: number } {
    return {
      batches: this.entries.length,
      bytes: this.totalBytes,
      windows: this.entries.reduce((n, e) => n + e.windows, 0),
    };
  }

  /** Writes a batch durably (write, fsync, rename), then enforces the bounds. */
  append(sequence: number, windows: number, body: Uint8Array, now = Date.now()): SpoolEntry {
    const name = `${String(sequence).padStart(16, '0')}-${String(now).padStart(13, '0')}-${windows}.batch.gz`;
    const file = join(this.options.dir, name);
    const temporary = `${file}.tmp`;
    const fd = openSync(temporary, 'w');
    try {
      writeSync(fd, body);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
    const entry: SpoolEntry = { sequence, createdAt: now, windows, bytes: body.byteLength, file };
    this.entries.push(entry);
    this.totalBytes += entry.bytes;
    this.enforce(now);
    return entry;
  }

  /** The oldest batch still to send, after dropping what has aged out. */
  oldest(now = Date.now()): SpoolEntry | undefined {
    this.enforce(now);
    return this.entries[0];
  }

  /** Marks the batch in flight (or none); bounds then drop the oldest batch other than it. */
  pin(entry: SpoolEntry | undefined): void {
    this.pinned = entry;
  }

  read(entry: SpoolEntry): Buffer {
    return readFileSync(entry.file);
  }

  /** The collector acknowledged the batch: forget it. */
  acknowledge(entry: SpoolEntry): void {
    this.forget(entry);
    removeIfPresent(entry.file);
  }

  /** The collector refused the batch as invalid: keep it aside for a person, never send it again. */
  deadLetter(entry: SpoolEntry): string {
    this.forget(entry);
    const target = join(this.deadLetterDir, entry.file.slice(entry.file.lastIndexOf('/') + 1));
    renameSync(entry.file, target);
    const kept = readdirSync(this.deadLetterDir)
      .filter((n) => FILE_NAME.test(n))
      .sort();
    const limit = this.options.maxDeadLetters ?? 100;
    for (const old of kept.slice(0, Math.max(0, kept.length - limit)))
      unlinkSync(join(this.deadLetterDir, old));
    return target;
  }

  private enforce(now: number): void {
    for (;;) {
      const first = this.entries.find((entry) => entry !== this.pinned);
      if (!first) return;
      const reason =
        this.totalBytes > this.options.maxBytes
          ? 'bytes'
          : now - first.createdAt > this.options.maxAgeMs
            ? 'age'
            : undefined;
      if (!reason) return;
      this.forget(first);
      removeIfPresent(first.file);
      this.options.onDrop?.(first, reason);
    }
  }

  private forget(entry: SpoolEntry): void {
    const at = this.entries.indexOf(entry);
    if (at === -1) return;
    this.entries.splice(at, 1);
    this.totalBytes -= entry.bytes;
  }
}

function removeIfPresent(file: string): void {
  try {
    unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
