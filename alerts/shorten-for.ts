// Writes a copy of a Prometheus rules file with every alert's `for:` shortened, so an end-to-end test runs the
// very rules that ship (alerts/mlcost.rules.yaml) without waiting hours: nothing but `for:` changes, and no `for:`
// is made longer. Everything else (expressions, labels, annotations, comments) stays as written.
//
//   node --import tsx alerts/shorten-for.ts alerts/mlcost.rules.yaml 2s > /tmp/mlcost.rules.yaml
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isMap, isSeq, parseDocument } from 'yaml';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

/** A Prometheus duration (`90s`, `1h30m`, `0m`) in milliseconds. */
export function durationMs(text: string): number {
  const parts = [...text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw new Error(`not a Prometheus duration: ${JSON.stringify(text)}`);
  }
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * UNIT_MS[unit!]!, 0);
}

/** The rules file `text` with each alert's `for:` set to `to` where it was longer; returns the new text. */
export function shortenFor(text: string, to: string): string {
  const limit = durationMs(to);
  const doc = parseDocument(text);
  const groups = doc.get('groups');
  if (!isSeq(groups)) throw new Error('a rules file holds a `groups:` list');
  for (const group of groups.items) {
    if (!isMap(group)) continue;
    const rules = group.get('rules');
    if (!isSeq(rules)) continue;
    for (const rule of rules.items) {
      if (!isMap(rule) || !rule.has('alert') || !rule.has('for')) continue;
      if (durationMs(String(rule.get('for'))) > limit) rule.set('for', to);
    }
  }
  return doc.toString({ lineWidth: 0 });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, to] = process.argv.slice(2);
  if (!file || !to) {
    process.stderr.write('usage: shorten-for.ts <rules.yaml> <duration>\n');
    process.exit(2);
  }
  process.stdout.write(shortenFor(readFileSync(file, 'utf8'), to));
}
