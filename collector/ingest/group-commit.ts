// Group commit: batches that arrive while the event loop is busy are written in one transaction, so many agents
// posting at once share one commit (and its fsync) instead of paying one each. Every batch is still all or nothing,
// and nobody is answered before the commit that holds their batch has returned: an acknowledged batch is on disk.
//
// A batch joins the group of the current turn of the event loop; the group is written at `setImmediate`, after the
// requests whose bodies arrived in the same turn have joined it, and at most `maxGroup` batches go in one commit.

export interface GroupCommitOptions {
  /** Most items in one commit; more wait for the next. Default 64. */
  maxGroup?: number;
}

/**
 * `writeAll` writes its items in one commit and gives, per item, its result or its own error; if it throws, the
 * commit failed and every item of the group gets that error.
 */
export function createGroupCommit<T, R>(
  writeAll: (items: readonly T[]) => Array<R | Error>,
  { maxGroup = 64 }: GroupCommitOptions = {},
): (item: T) => Promise<R> {
  let queue: Array<{ item: T; resolve: (result: R) => void; reject: (error: Error) => void }> = [];
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    const group = queue.slice(0, maxGroup);
    queue = queue.slice(group.length);
    if (queue.length > 0) schedule();
    let results: Array<R | Error>;
    try {
      results = writeAll(group.map((entry) => entry.item));
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const entry of group) entry.reject(failure);
      return;
    }
    group.forEach((entry, i) => {
      const result = results[i];
      if (result instanceof Error) entry.reject(result);
      else entry.resolve(result as R);
    });
  };
  const schedule = () => {
    scheduled = true;
    setImmediate(flush);
  };

  return (item) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!scheduled) schedule();
    });
}
