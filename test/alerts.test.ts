// Issue 8, acceptance 1 and 4: the alert rules pass `promtool check rules` and their unit tests
// (`promtool test rules alerts/mlcost.rules.test.yaml`); every alert has a unit test where it fires and one where it
// must not, the labels and annotations the kubernetes-mixin conventions ask for, and a runbook section; the example
// Alertmanager configuration passes `amtool check-config` and routes by severity, team and namespace.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { durationMs, shortenFor } from '../alerts/shorten-for.ts';
import { PROMTOOL, REPO_ROOT, requireTool } from './support/mlcost-process.ts';
import { AMTOOL } from './support/prom-servers.ts';

const ALERTS = join(REPO_ROOT, 'alerts');
const RULES_FILE = join(ALERTS, 'mlcost.rules.yaml');
const TESTS_FILE = join(ALERTS, 'mlcost.rules.test.yaml');
const RUNBOOK = join(ALERTS, 'runbook.md');
const AM_EXAMPLE = join(ALERTS, 'alertmanager.example.yaml');

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface RuleTest {
  eval_time: string;
  alertname: string;
  exp_alerts?: Array<{ exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }>;
}

const rulesText = readFileSync(RULES_FILE, 'utf8');
const groups = (parse(rulesText) as { groups: Array<{ name: string; rules: Rule[] }> }).groups;
const rules = groups.flatMap((g) => g.rules);
const alerts = rules.filter((r): r is Rule & { alert: string } => typeof r.alert === 'string');
const unitTests = (
  parse(readFileSync(TESTS_FILE, 'utf8')) as { tests: Array<{ name: string; alert_rule_test?: RuleTest[] }> }
).tests.flatMap((t) => (t.alert_rule_test ?? []).map((c) => ({ test: t.name, ...c })));

function run(binary: string, args: string[]) {
  const result = spawnSync(binary, args, { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const scratch = mkdtempSync(join(tmpdir(), 'mlcost-alerts-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('alerts/mlcost.rules.yaml', () => {
  it('passes promtool check rules', () => {
    requireTool(PROMTOOL, 'promtool');
    const result = run(PROMTOOL, ['check', 'rules', RULES_FILE]);
    expect(result.output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(result.status, result.output).toBe(0);
  });

  it('passes its promtool unit tests (alerts/mlcost.rules.test.yaml)', () => {
    const result = run(PROMTOOL, ['test', 'rules', TESTS_FILE]);
    expect(result.status, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS');
  });

  it('holds the alerts issue 8 asks for', () => {
    expect(alerts.map((a) => a.alert).sort()).toEqual(
      [
        'MLCostGPUHeldIdle',
        'MLCostGPUUnderused',
        'MLCostGPUsFree',
        'MLCostBudgetExceeded',
        'MLCostBudgetForecastExceeded',
        'MLCostOverRequested',
        'MLCostGPUMemoryNearlyFull',
        'MLCostGPUHardwareXIDError',
        'MLCostGPUXIDError',
        'MLCostGPUClockThrottled',
        'MLCostModelCostPerTokenJump',
        'MLCostAgentDown',
        'MLCostAgentNotReporting',
        'MLCostAgentSourceFailing',
        'MLCostAgentSpoolBacklog',
        'MLCostAgentSpoolDroppingData',
        'MLCostCollectorDown',
        'MLCostCollectorIngestFailing',
        'MLCostCollectorFallingBehind',
        'MLCostCostSeriesDropped',
      ].sort(),
    );
  });

  it.each(alerts.map((a) => [a.alert, a] as const))('%s follows the mixin conventions', (name, alert) => {
    expect(name).toMatch(/^MLCost[A-Z][A-Za-z]+$/);
    expect(['critical', 'warning', 'info']).toContain(alert.labels?.['severity']);
    expect(alert.for, 'an explicit for:').toBeDefined();
    expect(() => durationMs(alert.for!)).not.toThrow();
    const { summary, description, runbook_url: runbook } = alert.annotations ?? {};
    expect(summary, 'summary').toMatch(/^[A-Z].*\.$/);
    expect(summary, 'a static summary').not.toContain('{{');
    expect(description, 'description').toMatch(/\{\{[^}]*\$(labels|value)[^}]*\}\}/);
    expect(runbook).toBe(`alerts/runbook.md#${name.toLowerCase()}`);
  });

  it('names recording rules level:metric:operations', () => {
    for (const rule of rules.filter((r) => r.record))
      expect(rule.record).toMatch(/^[a-z_]+:[A-Za-z_:]+:[a-z0-9_]+$/);
  });

  it('has, for every alert, a unit test where it fires with its labels and annotations and one where it must not', () => {
    for (const { alert: name } of alerts) {
      const cases = unitTests.filter((c) => c.alertname === name);
      const firing = cases.filter((c) => (c.exp_alerts ?? []).length > 0);
      const silent = cases.filter((c) => (c.exp_alerts ?? []).length === 0);
      expect(firing.length, `${name}: a test where it fires`).toBeGreaterThan(0);
      expect(silent.length, `${name}: a test where it must not fire`).toBeGreaterThan(0);
      for (const c of firing) {
        for (const expected of c.exp_alerts!) {
          expect(
            expected.exp_labels?.['severity'],
            `${name} at ${c.eval_time}: severity checked`,
          ).toBeDefined();
          expect(Object.keys(expected.exp_annotations ?? {}).sort(), `${name}: annotations checked`).toEqual([
            'description',
            'runbook_url',
            'summary',
          ]);
        }
      }
    }
    // And no unit test names an alert the rules do not have.
    const names = new Set(alerts.map((a) => a.alert));
    for (const c of unitTests) expect(names.has(c.alertname), `${c.test}: ${c.alertname}`).toBe(true);
  });
});

describe('alerts/runbook.md', () => {
  const runbook = readFileSync(RUNBOOK, 'utf8');
  const sections = new Map<string, string>();
  for (const part of runbook.split(/^## /m).slice(1)) {
    const newline = part.indexOf('\n');
    sections.set(part.slice(0, newline).trim(), part.slice(newline));
  }

  it('has a section per alert, anchored at its lower-case name, that says what it means, how to confirm, what to do', () => {
    for (const { alert: name } of alerts) {
      const section = sections.get(name);
      expect(section, `## ${name}`).toBeDefined();
      expect(section).toContain('**What it means.**');
      expect(section).toContain('**How to confirm.**');
      expect(section).toContain('**What to do.**');
      // GitHub's anchor for "## MLCostGPUHeldIdle" is #mlcostgpuheldidle, the runbook_url's fragment.
      expect(name.toLowerCase()).toMatch(/^[a-z]+$/);
    }
    expect([...sections.keys()].sort()).toEqual(alerts.map((a) => a.alert).sort());
  });

  it('links only to sections that exist', () => {
    for (const [, target] of runbook.matchAll(/\]\(#([a-z0-9-]+)\)/g)) {
      expect(
        [...sections.keys()].map((s) => s.toLowerCase()),
        `#${target}`,
      ).toContain(target);
    }
  });
});

describe('alerts/shorten-for.ts', () => {
  it('shortens every longer `for:` and changes nothing else, into rules promtool accepts', () => {
    const short = shortenFor(rulesText, '2s');
    const before = rulesText.split('\n');
    const after = short.split('\n');
    expect(after).toHaveLength(before.length);
    const changed = before.flatMap((line, i) => (line === after[i] ? [] : [[line, after[i]]]));
    expect(changed.length).toBe(alerts.filter((a) => durationMs(a.for!) > 2000).length);
    for (const [was, now] of changed) {
      expect(was).toMatch(/^\s+for: \S+$/);
      expect(now).toBe(was!.replace(/for: \S+$/, 'for: 2s'));
    }
    const file = join(scratch, 'short.rules.yaml');
    writeFileSync(file, short);
    const result = run(PROMTOOL, ['check', 'rules', file]);
    expect(result.status, result.output).toBe(0);
  });

  it('reads Prometheus durations', () => {
    expect(durationMs('1h30m')).toBe(5_400_000);
    expect(durationMs('0m')).toBe(0);
    expect(() => durationMs('15 minutes')).toThrow(/not a Prometheus duration/);
  });
});

describe('alerts/alertmanager.example.yaml', () => {
  it('passes amtool check-config', () => {
    requireTool(AMTOOL, 'amtool');
    const result = run(AMTOOL, ['check-config', AM_EXAMPLE]);
    expect(result.status, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS');
  });

  const routes = (labels: string[]) =>
    run(AMTOOL, ['config', 'routes', 'test', `--config.file=${AM_EXAMPLE}`, ...labels]).output.split('\n')[0];

  it.each([
    [['alertname=MLCostBudgetExceeded', 'severity=critical', 'budget=research'], 'finops-slack'],
    [['alertname=MLCostBudgetForecastExceeded', 'severity=warning', 'budget=research'], 'finops-slack'],
    [['alertname=MLCostGPUHeldIdle', 'severity=warning', 'namespace=research-notebooks'], 'team-research'],
    [['alertname=MLCostGPUHeldIdle', 'severity=warning', 'namespace=vision-serving'], 'team-serving'],
    [
      ['alertname=MLCostGPUUnderused', 'severity=info', 'team=research', 'namespace=elsewhere'],
      'team-research',
    ],
    [['alertname=MLCostGPUHardwareXIDError', 'severity=critical', 'namespace=recsys'], 'platform-pager'],
    [
      ['alertname=MLCostModelCostPerTokenJump', 'severity=critical', 'namespace=recsys-serving'],
      'team-serving-pager',
    ],
    [['alertname=MLCostGPUHardwareXIDError', 'severity=critical'], 'platform-pager'],
    [['alertname=MLCostGPUsFree', 'severity=warning'], 'platform-slack'],
    [['alertname=MLCostOverRequested', 'severity=info', 'namespace=data-eng'], 'platform-tickets'],
  ])('routes %j to %s', (labels, receiver) => {
    expect(routes(labels)).toBe(receiver);
  });
});
