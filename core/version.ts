// The running version, read once from package.json: beside the sources (tsx) or one folder further up (dist/).
import { existsSync, readFileSync } from 'node:fs';

function findPackageJson(): URL {
  for (const relative of ['../package.json', '../../package.json']) {
    const candidate = new URL(relative, import.meta.url);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('package.json not found next to the mlcost sources');
}

export const VERSION: string = (JSON.parse(readFileSync(findPackageJson(), 'utf8')) as { version: string })
  .version;
