// Numbered schema migrations, applied in order inside one transaction each; PRAGMA user_version records the last.
import { m0001Initial } from './0001-initial.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [m0001Initial];
