// deploy/Dockerfile, checked without Docker: parsed into its stages and instructions (multi-stage, the Node LTS
// base pinned by tag, production dependencies only in the final stage, a non-root numeric user, the exec-form
// ENTRYPOINT the Helm chart relies on), then its final stage laid out from a real `tsc -p tsconfig.build.json`
// build exactly as its COPY instructions say, and run: the command starts, finds its files, and the collector
// serves /healthz while writing nothing outside its data folder.
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, freePort, pollUntil, REPO_ROOT } from './support/mlcost-process.ts';

const DOCKERFILE = join(REPO_ROOT, 'deploy', 'Dockerfile');

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}
interface Stage {
  image: string;
  name: string;
  instructions: Instruction[];
}

/** Splits a Dockerfile into instructions (joining continued lines, dropping comments) and stages. */
function parseDockerfile(text: string): { args: Map<string, string>; stages: Stage[] } {
  const instructions: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trimEnd();
    if (pending === '' && (line.trim() === '' || line.trim().startsWith('#'))) return;
    if (pending !== '' && line.trim().startsWith('#')) return;
    if (pending === '') start = index + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = `${pending}${line}`.trim();
    pending = '';
    const [keyword = '', ...rest] = full.split(/\s+/);
    instructions.push({ keyword: keyword.toUpperCase(), args: rest.join(' '), line: start });
  });
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = instruction.args.split(/\s+/);
      const resolved = image.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => args.get(a ?? b) ?? '');
      stages.push({
        image: resolved,
        name: as?.toUpperCase() === 'AS' ? (name ?? '') : '',
        instructions: [],
      });
    } else if (stages.length === 0) {
      if (instruction.keyword === 'ARG') {
        const [name = '', value = ''] = instruction.args.split('=');
        args.set(name, value);
      }
    } else stages.at(-1)!.instructions.push(instruction);
  }
  return { args, stages };
}

const { args: buildArgs, stages } = parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
const finalStage = stages.at(-1)!;
const of = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);
const runs = (stage: Stage) => of(stage, 'RUN').map((i) => i.args);

/** COPY's sources, destination and --from stage. */
function copyParts(instruction: Instruction): { from?: string; sources: string[]; destination: string } {
  const words = instruction.args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const paths = words.filter((w) => !w.startsWith('--'));
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
  return { ...(from ? { from } : {}), sources: paths.slice(0, -1), destination: paths.at(-1)! };
}

describe('deploy/Dockerfile', () => {
  it('is multi-stage on the Node LTS slim image, pinned by tag, never latest', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'deps', 'runtime']);
    expect(buildArgs.get('NODE_IMAGE')).toMatch(/^node:\d+-bookworm-slim$/);
    for (const stage of stages) {
      // Every base is a registry image with a tag (or digest); none is latest.
      expect(stage.image, stage.name).toMatch(
        /^[\w./-]+(:[\w.-]+)(@sha256:[a-f0-9]{64})?$|^[\w./-]+@sha256:[a-f0-9]{64}$/,
      );
      expect(stage.image, stage.name).not.toMatch(/:latest(@|$)/);
    }
    // An even major is an LTS line; 22 or newer (20 leaves maintenance in 2026).
    const major = Number(/^node:(\d+)-/.exec(stages[0]!.image)![1]);
    expect(major % 2).toBe(0);
    expect(major).toBeGreaterThanOrEqual(22);
    // better-sqlite3 and the other native or engine-bound dependencies accept that Node.
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { engines?: { node?: string } }>;
    };
    expect(lock.packages['node_modules/better-sqlite3']?.engines?.node).toContain(`${major}.x`);
  });

  it('builds with npm ci + npm run build and ships production dependencies only', () => {
    const [build, deps, runtime] = stages;
    expect(runs(build!).some((r) => /^npm ci\b/.test(r) && !r.includes('--omit=dev'))).toBe(true);
    expect(runs(build!)).toContain('npm run build');
    expect(runs(deps!).some((r) => /^npm ci --omit=dev\b/.test(r))).toBe(true);
    const copies = of(runtime!, 'COPY').map(copyParts);
    // node_modules come from the production-only stage, and only dist/ from the build stage.
    expect(copies.filter((c) => c.from === 'deps')).toEqual([
      { from: 'deps', sources: ['/app/node_modules'], destination: './node_modules' },
    ]);
    expect(copies.filter((c) => c.from === 'build')).toEqual([
      { from: 'build', sources: ['/src/dist'], destination: './dist' },
    ]);
    expect(runs(runtime!).join('\n')).not.toMatch(/npm (ci|install)/);
    // Plain COPY sources exist in the repository (a missing one fails the build).
    for (const stage of stages)
      for (const copy of of(stage, 'COPY')
        .map(copyParts)
        .filter((c) => !c.from))
        for (const source of copy.sources) expect(existsSync(join(REPO_ROOT, source)), source).toBe(true);
    expect(stages.flatMap((s) => of(s, 'ADD'))).toEqual([]);
  });

  it('runs as the unprivileged numeric user 10001, with the exec-form ENTRYPOINT the chart relies on', () => {
    const users = of(finalStage, 'USER').map((i) => i.args);
    expect(users.at(-1)).toBe('10001:10001');
    const setup = runs(finalStage).join('\n');
    expect(setup).toMatch(/useradd --uid 10001 --gid 10001/);
    expect(setup).toMatch(/chown 10001:10001 \/data/);
    expect(of(finalStage, 'ENTRYPOINT').map((i) => JSON.parse(i.args) as string[])).toEqual([
      ['node', 'dist/cli/main.js'],
    ]);
    expect(
      of(finalStage, 'ENV')
        .map((i) => i.args)
        .join(' '),
    ).toMatch(/MLCOST_DATA_DIR=\/data/);
    // The chart runs `collector` and `agent` as arguments to this entrypoint.
    const chart = join(REPO_ROOT, 'deploy', 'helm', 'mlcost', 'templates');
    expect(readFileSync(join(chart, 'collector-deployment.yaml'), 'utf8')).toMatch(/args:\n\s+- collector\n/);
    expect(readFileSync(join(chart, 'agent-daemonset.yaml'), 'utf8')).toMatch(/args:\n\s+- agent\n/);
  });

  it('sends only sources to the build (Dockerfile.dockerignore)', () => {
    const ignored = readFileSync(join(REPO_ROOT, 'deploy', 'Dockerfile.dockerignore'), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    for (const path of ['.git', 'node_modules', 'dist', '.tools', 'data', 'test', '**/*.test.ts'])
      expect(ignored).toContain(path);
  });
});

describe("the final stage's layout, from a real build", () => {
  let work: string;
  let app: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'mlcost-image-'));
    app = join(work, 'app');
    const out = join(work, 'src-dist');
    const tsc = spawnSync(
      join(REPO_ROOT, 'node_modules', '.bin', 'tsc'),
      ['-p', 'tsconfig.build.json', '--outDir', out],
      { cwd: REPO_ROOT, encoding: 'utf8', timeout: 110_000 },
    );
    if (tsc.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed:\n${tsc.stdout}${tsc.stderr}`);
    // The stages' files, by where the final stage copies them from.
    const stagePaths: Record<string, Record<string, string>> = {
      build: { '/src/dist': out },
      deps: { '/app/node_modules': join(REPO_ROOT, 'node_modules') },
    };
    mkdirSync(app, { recursive: true });
    for (const copy of of(finalStage, 'COPY').map(copyParts)) {
      for (const source of copy.sources) {
        // Docker's rule: a destination ending in / is a folder the source goes into.
        const target = /\/$|^\.$/.test(copy.destination)
          ? join(app, copy.destination, basename(source))
          : join(app, copy.destination);
        const from = copy.from ? stagePaths[copy.from]?.[source] : join(REPO_ROOT, source);
        if (!from) throw new Error(`the test does not know ${copy.from}:${source}`);
        mkdirSync(dirname(target), { recursive: true });
        if (source.endsWith('node_modules')) symlinkSync(from, target);
        else cpSync(from, target, { recursive: true });
      }
    }
  }, 120_000);
  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it('starts: `node dist/cli/main.js --version` prints the package version', () => {
    const result = spawnSync('node', ['dist/cli/main.js', '--version'], {
      cwd: app,
      encoding: 'utf8',
      env: cleanEnv(),
    });
    expect(result.stderr).toBe('');
    const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string })
      .version;
    expect(result.stdout.trim()).toBe(version);
  });

  it('finds the pod-resources .proto where the compiled module looks for it', () => {
    const module = join(app, 'dist', 'agent', 'sources', 'pod-resources.js');
    const candidates = [...readFileSync(module, 'utf8').matchAll(/new URL\('([^']+\.proto)'/g)].map((m) =>
      fileURLToPath(new URL(m[1]!, pathToFileURL(module))),
    );
    expect(candidates.length).toBeGreaterThan(0);
    expect(candidates.some((path) => existsSync(path) && path.startsWith(app))).toBe(true);
  });

  it('runs the collector with writes only under its data folder', async () => {
    const data = join(work, 'data');
    mkdirSync(data);
    const before = listFiles(app);
    const port = await freePort();
    const child = spawn('node', ['dist/cli/main.js', 'collector'], {
      cwd: app,
      env: {
        ...cleanEnv(),
        HOME: '/nonexistent',
        MLCOST_DATA_DIR: data,
        MLCOST_COLLECTOR_LISTEN: `127.0.0.1:${port}`,
        MLCOST_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    try {
      await pollUntil(
        async () => {
          const response = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
          return response?.status === 200 ? true : undefined;
        },
        { timeoutMs: 20_000, what: 'the collector answering /healthz' },
      );
    } catch (error) {
      throw new Error(`collector did not answer /healthz: ${(error as Error).message}\n${output}`);
    } finally {
      child.kill('SIGTERM');
      await new Promise((done) => child.once('exit', done));
    }
    expect(listFiles(app)).toEqual(before);
    expect(readdirSync(data).length).toBeGreaterThan(0);
  });
});

function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isSymbolicLink()) out.push(relative(root, path));
      else if (entry.isDirectory()) walk(path);
      else out.push(relative(root, path));
    }
  };
  walk(root);
  return out.sort();
}
