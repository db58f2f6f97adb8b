// The one table `npm run bench` prints: each row a figure, its unit, the peer or limit it is set against, and
// the ratio to it. Rows say which way is better, so the reader never has to guess what a ratio of 0.4 means.

export interface Row {
  /** What was measured, e.g. `parser samples/s: vllm qwen2.5 (395 samples)`. */
  name: string;
  /** The figure; undefined when it could not be measured (see `note`). */
  figure: number | undefined;
  unit: string;
  /** What it is set against: a peer measured in the same run, or a limit; its own figure in `peerFigure`. */
  peer?: string;
  peerFigure?: number;
  /**
   * figure ÷ peerFigure. `higher` when a bigger figure is better (throughput), `lower` when a smaller one is
   * (CPU, memory); the table marks the ratio with ↑ or ↓ accordingly.
   */
  better?: 'higher' | 'lower';
  /** Why a figure or its peer is missing, or what else to know about it. */
  note?: string;
}

export function ratioOf(row: Row): number | undefined {
  if (row.figure === undefined || row.peerFigure === undefined || row.peerFigure === 0) return undefined;
  return row.figure / row.peerFigure;
}

/** Three significant digits, with thousands separators above 1000. */
export function formatNumber(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  const magnitude = Math.abs(value);
  if (magnitude >= 1000) return Math.round(value).toLocaleString('en-US');
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  if (magnitude >= 1) return value.toFixed(2);
  if (magnitude === 0) return '0';
  return value.toPrecision(3);
}

function formatRatio(row: Row): string {
  const ratio = ratioOf(row);
  if (ratio === undefined) return '—';
  const arrow = row.better === 'higher' ? ' ↑' : row.better === 'lower' ? ' ↓' : '';
  return `${ratio >= 10 ? ratio.toFixed(1) : ratio.toFixed(2)}×${arrow}`;
}

function formatPeer(row: Row): string {
  if (row.peer === undefined) return '—';
  return row.peerFigure === undefined ? row.peer : `${row.peer} ${formatNumber(row.peerFigure)}`;
}

/** The table as text: aligned columns, then numbered notes for rows that carry one. */
export function renderTable(rows: readonly Row[]): string {
  const notes: string[] = [];
  const body = rows.map((row) => {
    let name = row.name;
    if (row.note) {
      notes.push(row.note);
      name += ` [${notes.length}]`;
    }
    return [name, formatNumber(row.figure), row.unit, formatPeer(row), formatRatio(row)];
  });
  const header = ['benchmark', 'figure', 'unit', 'peer / limit', 'ratio'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...body.map((cells) => [...(cells[column] ?? '')].length)),
  );
  const pad = (cells: string[]) =>
    cells
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        const fill = ' '.repeat(Math.max(0, width - [...cell].length));
        // Numbers right-aligned, text left-aligned.
        return column === 1 || column === 4 ? fill + cell : cell + fill;
      })
      .join('  ')
      .trimEnd();
  const lines = [pad(header), widths.map((width) => '-'.repeat(width)).join('  '), ...body.map(pad)];
  if (notes.length > 0) {
    lines.push('');
    notes.forEach((note, index) => {
      lines.push(`[${index + 1}] ${note}`);
    });
  }
  lines.push('');
  lines.push('ratio = figure ÷ peer (or limit); ↑ higher is better, ↓ lower is better.');
  return lines.join('\n');
}
