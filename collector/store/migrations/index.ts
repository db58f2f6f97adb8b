// Numbered schema migrations, applied in order inside one transaction each; PRAGMA user_version records the last.
import { m0001Initial } from './0001-initial.ts';
import { m0002HourlyRollups } from './0002-hourly-rollups.ts';
import { m0003HourlyModelCosts } from './0003-hourly-model-costs.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [m0001Initial, m0002HourlyRollups, m0003HourlyModelCosts];
