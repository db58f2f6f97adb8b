// Runs the real `mlcost` command (cli/main.ts through the project's tsx) as a child process for end-to-end tests:
// a hermetic environment, free loopback ports, waiting for a printed line, and cleanup that never leaves a
// process behind (each child leads its own process group, so tsx and the node it starts go together).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const TSX = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
/** tsx's loader by absolute URL, so `node --import` finds it whatever the child's working folder. */
const TSX_LOADER = import.meta.resolve('tsx');
export const CLI = join(REPO_ROOT, 'cli', 'main.ts');
export const PROMTOOL = join(REPO_ROOT, '.tools', 'bin', 'promtool');

/** Throws (failing the test) with what to run when a tool the test needs is not installed. */
export function requireTool(path: string, what: string): string {
  if (!existsSync(path)) {
    throw new Error(
      `${what} not found at ${path}: run \`npm test\` (it runs test/setup/setup-test-tools.sh, which installs the test tools into .tools/)${path === TSX ? ' after `npm install`' : ''}`,
    );
  }
  return path;
}

/** The test runner's environment without any MLCOST_* variable or NODE_NAME, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (
      name.startsWith('MLCOST_') ||
      name === 'NODE_NAME' ||
      name.startsWith('VITEST') ||
      name === 'NODE_OPTIONS'
    )
      continue;
    env[name] = value;
  }
  return { ...env, ...extra };
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class MlcostProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  private exit?: Exit;
  private readonly waiters = new Set<() => void>();

  constructor(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
    requireTool(TSX, 'tsx');
    // node --import tsx runs mlcost in this one process: signals reach it directly (the tsx wrapper forwards a
    // SIGTERM, then SIGKILLs its child if it does not confirm within ~30 ms, which a loaded machine can miss).
    this.child = spawn(process.execPath, ['--import', TSX_LOADER, CLI, ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env: options.env ?? cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      this.notify();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      this.notify();
    });
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.exit = { code, signal };
        running.delete(this);
        this.notify();
        resolve(this.exit);
      });
    });
    running.add(this);
  }

  get pid(): number {
    return this.child.pid!;
  }

  private notify(): void {
    for (const waiter of this.waiters) waiter();
  }

  /** Resolves with the first match of `pattern` in stdout; rejects on timeout or exit, showing stderr. */
  waitForStdout(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = this.stdout.match(pattern);
        if (match) return finish(() => resolve(match));
        if (this.exit) {
          return finish(() =>
            reject(
              new Error(
                `mlcost exited (${JSON.stringify(this.exit)}) before printing ${pattern}; stdout: ${this.stdout.slice(-2000)}; stderr: ${this.stderr.slice(-2000)}`,
              ),
            ),
          );
        }
      };
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(
              new Error(
                `mlcost did not print ${pattern} within ${timeoutMs} ms; stdout: ${this.stdout.slice(-2000)}; stderr: ${this.stderr.slice(-2000)}`,
              ),
            ),
          ),
        timeoutMs,
      );
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Sends `signal` to the mlcost process. */
  signal(signal: NodeJS.Signals): void {
    if (!this.exit) this.child.kill(signal);
  }

  /** SIGKILLs the whole process group: tsx and the node process running mlcost, at once, like a crash. */
  killGroup(): void {
    if (this.exit) return;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  /** Waits for exit up to `timeoutMs`; kills the group and rejects past it. */
  async waitForExit(timeoutMs: number): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.killGroup();
        reject(new Error(`mlcost did not exit within ${timeoutMs} ms; stderr: ${this.stderr.slice(-2000)}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

const running = new Set<MlcostProcess>();

/** Kills every process these helpers started that is still running; call from afterAll/afterEach. */
export async function killAll(): Promise<void> {
  const left = [...running];
  for (const process of left) process.killGroup();
  await Promise.all(left.map((p) => p.exited));
}

/** Runs `mlcost <args>` to completion (for --help and refused configurations). */
export function runMlcost(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): { status: number | null; stdout: string; stderr: string } {
  requireTool(TSX, 'tsx');
  const result = spawnSync(process.execPath, ['--import', TSX_LOADER, CLI, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? cleanEnv(),
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 30_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Polls `probe` every `everyMs` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  options: { timeoutMs: number; everyMs?: number; what: string },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${options.what} did not happen within ${options.timeoutMs} ms${lastError ? `; last error: ${(lastError as Error).message}` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.everyMs ?? 100));
  }
}
