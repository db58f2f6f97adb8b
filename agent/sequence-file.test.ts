import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentIdOf, SequenceFile } from './sequence-file.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlcost-seq-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('SequenceFile', () => {
  it('continues numbering and keeps its instance across restarts', () => {
    const path = join(dir, 'n.sequence.json');
    const first = new SequenceFile(path);
    expect([first.take(), first.take()]).toEqual([0, 1]);
    expect(first.instance).toMatch(/^[0-9a-f]{8}$/);
    const again = new SequenceFile(path);
    expect(again.instance).toBe(first.instance);
    expect(again.take()).toBe(2);
  });

  it('after the file is lost, starts at 0 under a new instance, so (agent, sequence) never repeats', () => {
    const path = join(dir, 'n.sequence.json');
    const before = new SequenceFile(path);
    before.take();
    before.take();
    rmSync(path);
    const after = new SequenceFile(path);
    expect(after.take()).toBe(0);
    expect(after.instance).not.toBe(before.instance);
    expect(agentIdOf('gpu-7', after.instance)).not.toBe(agentIdOf('gpu-7', before.instance));
  });

  it('a file written before instances keeps its numbering under the node name alone', () => {
    const path = join(dir, 'n.sequence.json');
    writeFileSync(path, JSON.stringify({ next: 41 }));
    const old = new SequenceFile(path);
    expect(old.instance).toBe('');
    expect(old.take()).toBe(41);
    expect(agentIdOf('gpu-7', old.instance)).toBe('gpu-7');
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ next: 42, instance: '' });
  });

  it('refuses a file that holds no sequence number, naming it', () => {
    const path = join(dir, 'n.sequence.json');
    writeFileSync(path, JSON.stringify({ next: -1 }));
    expect(() => new SequenceFile(path)).toThrow(`${path} does not hold a sequence number`);
  });
});

describe('agentIdOf', () => {
  it('is the node name and the instance', () => {
    expect(agentIdOf('gpu-node-7', '3fa94c1e')).toBe('gpu-node-7/3fa94c1e');
  });

  it('stays within the 253 characters a batch allows, shortening the node part', () => {
    const id = agentIdOf('n'.repeat(253), '3fa94c1e');
    // 253 - 8 (instance) - 1 (slash) = 244 characters of the node name.
    expect(id).toBe(`${'n'.repeat(244)}/3fa94c1e`);
    expect(id.length).toBe(253);
  });
});
