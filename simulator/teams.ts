// Teams and their namespaces: who owns which simulated workloads. Every namespace carries a `team` label, and
// every pod the team runs carries the same `team` label, so allocation can roll up by `label:team`.

export interface Team {
  name: string;
  namespaces: {
    training?: string;
    serving?: string;
    notebooks?: string;
    services?: string;
    batch?: string;
  };
  /** Hours east of UTC where most of the team's users are: shapes daily traffic and notebook hours. */
  utcOffsetHours: number;
}

export const TEAMS: readonly Team[] = [
  {
    name: 'nlp',
    namespaces: { training: 'nlp-training', serving: 'nlp-serving', notebooks: 'nlp-research' },
    utcOffsetHours: -5,
  },
  {
    name: 'vision',
    namespaces: { training: 'vision-training', serving: 'vision-serving', batch: 'vision-training' },
    utcOffsetHours: 1,
  },
  {
    name: 'recsys',
    namespaces: { training: 'recsys', serving: 'recsys', services: 'recsys' },
    utcOffsetHours: -8,
  },
  {
    name: 'research',
    namespaces: { notebooks: 'research-notebooks', batch: 'research-eval', training: 'research-train' },
    utcOffsetHours: 0,
  },
  { name: 'platform', namespaces: { services: 'ml-platform', serving: 'ml-platform' }, utcOffsetHours: -5 },
  { name: 'data', namespaces: { services: 'data-eng', batch: 'data-eng' }, utcOffsetHours: 5.5 },
];

/** The team that runs node daemons: their namespace is `monitoring`. */
export const PLATFORM_DAEMON_NAMESPACE = 'monitoring';

export function teamByName(name: string): Team {
  const team = TEAMS.find((t) => t.name === name);
  if (!team) throw new Error(`unknown team ${name}`);
  return team;
}

/** Teams that have a namespace of this purpose. */
export function teamsWith(purpose: keyof Team['namespaces']): Team[] {
  return TEAMS.filter((team) => team.namespaces[purpose] !== undefined);
}

/** Every namespace of the simulated cluster with the team that owns it, sorted by name. */
export function allNamespaces(): Array<{ name: string; team: string }> {
  const out = new Map<string, string>();
  for (const team of TEAMS) for (const ns of Object.values(team.namespaces)) if (ns) out.set(ns, team.name);
  out.set(PLATFORM_DAEMON_NAMESPACE, 'platform');
  return [...out].map(([name, team]) => ({ name, team })).sort((a, b) => a.name.localeCompare(b.name));
}
