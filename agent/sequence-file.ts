// The agent's batch sequence, kept in a small file so that numbers never repeat across restarts (the collector
// drops an (agent, sequence) it has seen: a repeated number would lose a window). The file also holds an instance
// id, made when the file is: if the file is lost (a new disk, a wiped data folder) numbering restarts at 0 under a
// new instance, so the collector's (agent, sequence) key never mistakes the new batches for ones it already has.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export class SequenceFile {
  private next: number;
  /** Eight hex digits made with the file; empty for a file written before instances existed. */
  readonly instance: string;

  constructor(private readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    const read = readState(path);
    this.next = read?.next ?? 0;
    this.instance = read ? read.instance : randomBytes(4).toString('hex');
    if (!read) this.write();
  }

  /** Takes the next number and records it durably before returning it. */
  take(): number {
    const value = this.next;
    this.next = value + 1;
    this.write();
    return value;
  }

  private write(): void {
    const temporary = `${this.path}.tmp`;
    writeFileSync(temporary, JSON.stringify({ next: this.next, instance: this.instance }));
    renameSync(temporary, this.path);
  }
}

/** Node names are DNS subdomains of up to 253 characters, as is the batch's agent id: the node part gives way. */
const MAX_AGENT_ID = 253;

/**
 * The id an agent sends with its batches: the node name and the sequence file's instance (`gpu-node-7/3fa94c1e`),
 * or the node name alone for a sequence file that predates instances (its numbering goes on under that id).
 */
export function agentIdOf(nodeName: string, instance: string): string {
  if (instance === '') return nodeName;
  return `${nodeName.slice(0, MAX_AGENT_ID - instance.length - 1)}/${instance}`;
}

function readState(path: string): { next: number; instance: string } | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { next?: unknown; instance?: unknown };
    if (typeof parsed.next !== 'number' || !Number.isInteger(parsed.next) || parsed.next < 0)
      throw new Error(`${path} does not hold a sequence number`);
    const instance =
      typeof parsed.instance === 'string' && /^[0-9a-f]{8}$/.test(parsed.instance) ? parsed.instance : '';
    return { next: parsed.next, instance };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
