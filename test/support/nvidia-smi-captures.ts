// The real nvidia-smi captures in test/fixtures/real/nvidia-smi/ for the nvidia-smi source tests: the capture file
// names, a fixture file's text, and one `# <title>` section of a capture (the output of one command it ran).
import { readFileSync } from 'node:fs';

/** utkuozdemir's capture tool output for an H100 80GB HBM3 without MIG (driver 590.48.01). */
export const H100 = 'utkuozdemir-capture__linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt';
/** The same H100 with MIG on (driver 590.48.01). */
export const H100_MIG = 'utkuozdemir-capture__linux-x86_64__nvidia-h100-mig__590.48.01.txt';
/** An L40S (driver 595.80). */
export const L40S = 'utkuozdemir-capture__linux-x86_64__nvidia-l40s__595.80.txt';

/** The text of one file in test/fixtures/real/nvidia-smi/. */
export function readNvidiaSmiFixture(name: string): string {
  return readFileSync(new URL(`../fixtures/real/nvidia-smi/${name}`, import.meta.url), 'utf8');
}

/** The body of one `# <title>` section of a capture: the lines between its closing banner and the next. */
export function captureSection(file: string, title: string): string {
  const lines = readNvidiaSmiFixture(file).split('\n');
  const at = lines.indexOf(`# ${title}`);
  if (at === -1) throw new Error(`${file} has no section "# ${title}"`);
  const banner = /^#{40,}$/;
  let start = at + 1;
  while (start < lines.length && !banner.test(lines[start]!)) start++;
  let end = start + 1;
  while (end < lines.length && !banner.test(lines[end]!)) end++;
  return `${lines
    .slice(start + 1, end)
    .join('\n')
    .trim()}\n`;
}
