// The agent's batch sequence, kept in a small file so that numbers never repeat across restarts (the collector
// drops an (agent, sequence) it has seen: a repeated number would lose a window).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export class SequenceFile {
  private next: number;

  constructor(private readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.next = readNext(path);
  }

  /** Takes the next number and records it durably before returning it. */
  take(): number {
    const value = this.next;
    this.next = value + 1;
    const temporary = `${this.path}.tmp`;
    writeFileSync(temporary, JSON.stringify({ next: this.next }));
    renameSync(temporary, this.path);
    return value;
  }
}

function readNext(path: string): number {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { next?: unknown };
    if (typeof parsed.next === 'number' && Number.isInteger(parsed.next) && parsed.next >= 0)
      return parsed.next;
    throw new Error(`${path} does not hold a sequence number`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}
