// The V8 setting the agent makes for itself: made unless the process was started with its own choice.
import { describe, expect, it } from 'vitest';
import { AGENT_V8_FLAGS, applyAgentV8Flags } from './v8-memory.ts';

describe('applyAgentV8Flags', () => {
  const run = (execArgv: string[], nodeOptions = '') => {
    const set: string[] = [];
    const applied = applyAgentV8Flags(execArgv, nodeOptions, (flag) => set.push(flag));
    expect(applied).toEqual(set);
    return applied;
  };

  it('sets --optimize-for-size when nothing says otherwise', () => {
    expect(AGENT_V8_FLAGS).toEqual(['--optimize-for-size']);
    expect(run([])).toEqual(['--optimize-for-size']);
    // Other flags do not count as a choice.
    expect(run(['--max-semi-space-size=1'], '--max-old-space-size=256')).toEqual(['--optimize-for-size']);
  });

  it('leaves a setting given on the command line or in NODE_OPTIONS alone, either way', () => {
    expect(run(['--no-optimize-for-size'])).toEqual([]);
    expect(run(['--optimize-for-size'])).toEqual([]);
    expect(run(['--optimize_for_size'])).toEqual([]);
    expect(run([], '--inspect --no-optimize-for-size')).toEqual([]);
  });
});
