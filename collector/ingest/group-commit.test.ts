import { describe, expect, it } from 'vitest';
import { createGroupCommit } from './group-commit.ts';

/** A writeAll that records each group it was given and answers each item with `ok:<item>`. */
function recorder(answer: (item: string) => string | Error = (item) => `ok:${item}`) {
  const groups: string[][] = [];
  const write = createGroupCommit((items: readonly string[]) => {
    groups.push([...items]);
    return items.map(answer);
  });
  return { groups, write };
}

describe('group commit', () => {
  it('writes the items of one turn of the event loop in one call and answers each with its own result', async () => {
    const { groups, write } = recorder();
    const answers = await Promise.all([write('a'), write('b'), write('c')]);
    expect(answers).toEqual(['ok:a', 'ok:b', 'ok:c']);
    expect(groups).toEqual([['a', 'b', 'c']]);
  });

  it('starts a new group for items that come after the write', async () => {
    const { groups, write } = recorder();
    await write('a');
    await Promise.all([write('b'), write('c')]);
    expect(groups).toEqual([['a'], ['b', 'c']]);
  });

  it('does not answer before the write has returned', async () => {
    const { groups, write } = recorder();
    const pending = write('a');
    let settled = false;
    void pending.then(() => {
      settled = true;
    });
    await Promise.resolve();
    expect(settled).toBe(false);
    expect(groups).toEqual([]);
    await pending;
    expect(settled).toBe(true);
  });

  it("rejects only the item whose own write failed, with that item's error", async () => {
    const { write } = recorder((item) => (item === 'bad' ? new Error('bad item') : `ok:${item}`));
    const answers = await Promise.allSettled([write('a'), write('bad'), write('c')]);
    expect(answers).toEqual([
      { status: 'fulfilled', value: 'ok:a' },
      { status: 'rejected', reason: new Error('bad item') },
      { status: 'fulfilled', value: 'ok:c' },
    ]);
  });

  it('rejects every item of the group when the commit itself fails, and carries on with the next group', async () => {
    let fail = true;
    const write = createGroupCommit((items: readonly string[]) => {
      if (fail) throw new Error('disk I/O error');
      return items.map((item) => `ok:${item}`);
    });
    const answers = await Promise.allSettled([write('a'), write('b')]);
    expect(answers.map((answer) => answer.status)).toEqual(['rejected', 'rejected']);
    expect((answers[0] as PromiseRejectedResult).reason).toEqual(new Error('disk I/O error'));
    fail = false;
    await expect(write('c')).resolves.toBe('ok:c');
  });

  it('puts at most maxGroup items in one write; the rest go in the next', async () => {
    const groups: string[][] = [];
    const write = createGroupCommit(
      (items: readonly string[]) => {
        groups.push([...items]);
        return items.map((item) => item);
      },
      { maxGroup: 2 },
    );
    expect(await Promise.all(['a', 'b', 'c', 'd', 'e'].map(write))).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(groups).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });
});
