// Parser for the Prometheus text exposition format (0.0.4) and OpenMetrics 1.0 text: turns a scrape body
// into metric families. It runs on every scrape of every exporter, so it is a hand-written char-code
// scanner: one pass over the string, no split into lines, native indexOf for line ends and quoted values.
// Names are predicted rather than scanned: a sample's name is compared with the previous sample's and with
// the names of the family the last line touched, label names with the names at the same positions in the
// label sets read before (kept from call to call), numbers are parsed as they are scanned. Comparisons are
// slices compared with ===, which V8 does as one memory compare. Broken input is never skipped: it throws
// PrometheusParseError with the 1-based line number.

import { PrometheusParseError } from '../errors.ts';
import type { Exemplar, Labels, MetricFamily, MetricType, ParseLimits, Sample } from './types.ts';

/**
 * Limits applied when the caller gives none.
 * - maxSamples 200_000: the largest real scrapes we target (kube-state-metrics or cAdvisor on a big node,
 *   dcgm-exporter on 8-GPU hosts with per-process labels) stay in the tens of thousands; 200k leaves
 *   headroom while capping the parsed result of a runaway or hostile endpoint at some tens of MB.
 * - maxLabelValueLength 4096: real values (GPU UUIDs, pod names <= 253, image digests, model paths,
 *   process command lines) are far shorter; longer values are a sign of garbage, not of a metric.
 * - maxLabelsPerSample 64: real exporters attach at most ~30 labels (kube-state-metrics label_* sets);
 *   more means a cardinality bug upstream.
 */
export const DEFAULT_PARSE_LIMITS: Readonly<ParseLimits> = Object.freeze({
  maxSamples: 200_000,
  maxLabelValueLength: 4096,
  maxLabelsPerSample: 64,
});

export function parsePrometheusText(text: string, limits?: Partial<ParseLimits>): MetricFamily[] {
  const effectiveLimits: ParseLimits = {
    maxSamples: limits?.maxSamples ?? DEFAULT_PARSE_LIMITS.maxSamples,
    maxLabelValueLength: limits?.maxLabelValueLength ?? DEFAULT_PARSE_LIMITS.maxLabelValueLength,
    maxLabelsPerSample: limits?.maxLabelsPerSample ?? DEFAULT_PARSE_LIMITS.maxLabelsPerSample,
  };
  return sharedParser.parse(text, effectiveLimits);
}

const TAB = 9;
const LF = 10;
const CR = 13;
const SPACE = 32;
const QUOTE = 34;
const HASH = 35;
const PLUS = 43;
const COMMA = 44;
const MINUS = 45;
const DOT = 46;
const DIGIT_0 = 48;
const DIGIT_9 = 57;
const EQUALS = 61;
const UPPER_E = 69;
const BACKSLASH = 92;
const LOWER_E = 101;
const LOWER_N = 110;
const LBRACE = 123;
const RBRACE = 125;

// Character classes of the legacy (unquoted) name grammar, as bit flags indexed by ASCII code.
const METRIC_NAME_START = 1; // [a-zA-Z_:]
const METRIC_NAME_CHAR = 2; // [a-zA-Z0-9_:]
const LABEL_NAME_START = 4; // [a-zA-Z_]
const LABEL_NAME_CHAR = 8; // [a-zA-Z0-9_]
const NAME_CHAR_CLASS = buildNameCharClass();

function buildNameCharClass(): Uint8Array {
  const table = new Uint8Array(128);
  const all = METRIC_NAME_START | METRIC_NAME_CHAR | LABEL_NAME_START | LABEL_NAME_CHAR;
  for (let c = 65; c <= 90; c++) table[c] = all; // A-Z
  for (let c = 97; c <= 122; c++) table[c] = all; // a-z
  for (let c = DIGIT_0; c <= DIGIT_9; c++) table[c] = METRIC_NAME_CHAR | LABEL_NAME_CHAR;
  table[95] = all; // _
  table[58] = METRIC_NAME_START | METRIC_NAME_CHAR; // : (metric names only)
  return table;
}

function hasClass(code: number, flag: number): boolean {
  return code < 128 && (NAME_CHAR_CLASS[code]! & flag) !== 0;
}

const METRIC_TYPES: ReadonlySet<string> = new Set<MetricType>([
  'counter',
  'gauge',
  'histogram',
  'gaugehistogram',
  'summary',
  'info',
  'stateset',
  'untyped',
  'unknown',
]);

/**
 * Sample names a family of each type owns, as suffixes of the family name ('' = the name itself).
 * Counters accept the bare name because Prometheus 0.0.4 writes `# TYPE x_total counter` / `x_total 1`,
 * while OpenMetrics writes `# TYPE x counter` / `x_total 1`.
 */
const SUFFIXES_BY_TYPE: Readonly<Record<MetricType, readonly string[]>> = {
  counter: ['', '_total', '_created'],
  gauge: [''],
  histogram: ['_bucket', '_sum', '_count', '_created'],
  gaugehistogram: ['_bucket', '_gsum', '_gcount'],
  summary: ['', '_sum', '_count', '_created'],
  info: ['', '_info'],
  stateset: [''],
  untyped: [''],
  unknown: [''],
};
/** The type names by themselves: a TYPE line's token maps to the constant string, not a slice of the text. */
const TYPES_BY_NAME: ReadonlyMap<string, MetricType> = new Map(
  [...METRIC_TYPES].map((type) => [type, type as MetricType]),
);
const KNOWN_SUFFIXES = ['_total', '_created', '_bucket', '_count', '_sum', '_gcount', '_gsum', '_info'];

/** Which structural label a sample must carry: histogram buckets need `le`, summary quantiles `quantile`. */
const CHECK_NONE = 0;
const CHECK_LE = 1;
const CHECK_QUANTILE = 2;
type SampleCheck = typeof CHECK_NONE | typeof CHECK_LE | typeof CHECK_QUANTILE;

/**
 * A family while it is parsed. Every field exists from creation, so all states share one hidden class and
 * the optimised code never depends on a shape that dies with a previous result (see sharedParser).
 */
interface FamilyState {
  name: string;
  type: MetricType;
  help: string | undefined;
  unit: string | undefined;
  samples: Sample[];
  suffixes: readonly string[];
  /**
   * The sample names the family owns (name + each suffix) and the structural label each must carry, made
   * when a sample line first needs them (undefined until then, and again after a TYPE line); empty when the
   * family name is not a legacy (unquoted) metric name, which no bare sample name can match.
   */
  sampleNames: readonly string[] | undefined;
  sampleChecks: readonly SampleCheck[];
  /** Whether the name is a legacy metric name; undefined until known (see sampleNamesOf). */
  legacyName: boolean | undefined;
  /** Line of the TYPE / HELP / UNIT line that set it, 0 when none did (for "declared twice" errors). */
  typeLine: number;
  helpLine: number;
  unitLine: number;
}

const METADATA_HELP = 0;
const METADATA_TYPE = 1;
const METADATA_UNIT = 2;
type MetadataKind = typeof METADATA_HELP | typeof METADATA_TYPE | typeof METADATA_UNIT;
const METADATA_KEYWORDS = ['HELP', 'TYPE', 'UNIT'] as const;

// Label-set modes: whether `{"quoted.name"}` / `__name__="x"` may supply the metric name.
const LABELS_OF_EXEMPLAR = 0;
const LABELS_OF_NAMED_SAMPLE = 1;
const LABELS_OF_UNNAMED_SAMPLE = 2;
type LabelSetMode =
  | typeof LABELS_OF_EXEMPLAR
  | typeof LABELS_OF_NAMED_SAMPLE
  | typeof LABELS_OF_UNNAMED_SAMPLE;

// 10^0..10^22 are exact doubles: m * 10^k and m / 10^k with m < 2^53 round once, so they are exact parses.
const EXACT_POWERS_OF_TEN = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
  1e20, 1e21, 1e22,
];
const TWO_POW_53 = 2 ** 53;

/** Where the last scanDecimal call stopped: the index of the first character after the number. */
let scanEnd = 0;

/**
 * Scans a decimal number (`1`, `-2.5`, `1e-3`, `.5`, `5.`) starting at `start`, stopping at the first
 * character that cannot continue it, and leaves that index in scanEnd; undefined when no number starts
 * there (no digit, or an exponent without digits). Whether the number fills its token is the caller's check.
 */
function scanDecimal(src: string, start: number): number | undefined {
  let p = start;
  let c = src.charCodeAt(p);
  let negative = false;
  if (c === MINUS || c === PLUS) {
    negative = c === MINUS;
    c = src.charCodeAt(++p);
  }
  let mantissa = 0;
  let digits = 0;
  let exponent = 0;
  while (c >= DIGIT_0 && c <= DIGIT_9) {
    mantissa = mantissa * 10 + (c - DIGIT_0);
    digits++;
    c = src.charCodeAt(++p);
  }
  if (c === DOT) {
    c = src.charCodeAt(++p);
    while (c >= DIGIT_0 && c <= DIGIT_9) {
      mantissa = mantissa * 10 + (c - DIGIT_0);
      digits++;
      exponent--;
      c = src.charCodeAt(++p);
    }
  }
  if (digits === 0) return undefined;
  if (c === LOWER_E || c === UPPER_E) {
    c = src.charCodeAt(++p);
    let exponentNegative = false;
    if (c === MINUS || c === PLUS) {
      exponentNegative = c === MINUS;
      c = src.charCodeAt(++p);
    }
    let written = 0;
    let exponentDigits = 0;
    while (c >= DIGIT_0 && c <= DIGIT_9) {
      // Capped so a absurd exponent cannot overflow; Number() below then gives 0 or Infinity.
      if (written < 100_000) written = written * 10 + (c - DIGIT_0);
      exponentDigits++;
      c = src.charCodeAt(++p);
    }
    if (exponentDigits === 0) return undefined;
    exponent += exponentNegative ? -written : written;
  }
  scanEnd = p;
  // Fast exact path (Clinger); the mantissa only grows, so < 2^53 at the end means it never lost a digit.
  if (mantissa < TWO_POW_53 && exponent >= -22 && exponent <= 22) {
    const magnitude =
      exponent < 0 ? mantissa / EXACT_POWERS_OF_TEN[-exponent]! : mantissa * EXACT_POWERS_OF_TEN[exponent]!;
    return negative ? -magnitude : magnitude;
  }
  return Number(src.slice(start, p));
}

/**
 * Parses a Prometheus/OpenMetrics number (`1`, `-2.5`, `1e-3`, `.5`, `+Inf`, `NaN`, case-insensitive
 * `inf`/`infinity`/`nan` as Go and Python accept them) from src[start, end); undefined when malformed.
 */
function parseNumber(src: string, start: number, end: number): number | undefined {
  let p = start;
  let c = src.charCodeAt(p);
  let negative = false;
  if (c === MINUS || c === PLUS) {
    negative = c === MINUS;
    c = src.charCodeAt(++p);
  }
  if ((c >= DIGIT_0 && c <= DIGIT_9) || c === DOT) {
    const value = scanDecimal(src, start);
    return value !== undefined && scanEnd === end ? value : undefined;
  }
  const wordLength = end - p;
  // `Inf` / `+Inf` as exporters write it, without the lower-casing copy below.
  if (wordLength === 3 && c === 73 && src.charCodeAt(p + 1) === 110 && src.charCodeAt(p + 2) === 102) {
    return negative ? -Infinity : Infinity;
  }
  if (wordLength === 3 || wordLength === 8) {
    const word = src.slice(p, end).toLowerCase();
    if (word === 'inf' || word === 'infinity') return negative ? -Infinity : Infinity;
    if (word === 'nan' && p === start) return Number.NaN;
  }
  return undefined;
}

/** Which of HELP, TYPE and UNIT the four characters at p spell, if any (compared as character codes). */
function metadataKeywordAt(text: string, p: number): MetadataKind | undefined {
  const c0 = text.charCodeAt(p);
  const c1 = text.charCodeAt(p + 1);
  const c2 = text.charCodeAt(p + 2);
  const c3 = text.charCodeAt(p + 3);
  if (c0 === 72 && c1 === 69 && c2 === 76 && c3 === 80) return METADATA_HELP; // HELP
  if (c0 === 84 && c1 === 89 && c2 === 80 && c3 === 69) return METADATA_TYPE; // TYPE
  if (c0 === 85 && c1 === 78 && c2 === 73 && c3 === 84) return METADATA_UNIT; // UNIT
  return undefined;
}

function isBlank(code: number): boolean {
  // One comparison for the usual case, a printable character.
  return code <= SPACE && (code === SPACE || code === TAB || code === CR);
}

class TextParser {
  private text = '';
  private length = 0;
  private limits: ParseLimits = DEFAULT_PARSE_LIMITS;
  private pos = 0;
  private line = 1;
  /** Index of the LF ending the current line (or the text length): found once per line by indexOf. */
  private lineEnd = 0;
  /** Index of the next backslash at or after some earlier position; escapes are rare, so one search serves many values. */
  private nextBackslash = -1;
  private eofLine = 0;
  private sampleCount = 0;
  private families: FamilyState[] = [];
  private familiesByName = new Map<string, FamilyState>();
  /** The family the last line touched: the first candidate for the next sample. */
  private current: FamilyState | undefined = undefined;
  // The previous sample's name and where it went; reset by metadata lines, which can change the answer.
  private lastSampleName = '';
  private lastSampleFamily: FamilyState | undefined = undefined;
  private lastSampleCheck: SampleCheck = CHECK_NONE;
  // Per label position, the label name last seen there; reused (not re-sliced) when the text matches. Kept
  // from one parse to the next (the same exporter writes the same names), so it holds only copies.
  private readonly labelNameCache: NameCache = { names: [], size: 0 };
  private readonly exemplarNameCache: NameCache = { names: [], size: 0 };
  /** The structural label (`le`, `quantile`) whose value parseLabelSet keeps in boundValue, if any. */
  private boundLabel: string | undefined = undefined;
  private boundValue: string | undefined = undefined;
  /** Set by parseLabelSet when the label set itself names the metric (`{"my.metric"}` or `__name__`). */
  private nameFromLabels: string | undefined = undefined;

  parse(text: string, limits: ParseLimits): MetricFamily[] {
    this.text = text;
    this.length = text.length;
    this.limits = limits;
    this.pos = 0;
    this.line = 1;
    this.lineEnd = 0;
    this.nextBackslash = -1;
    this.eofLine = 0;
    this.sampleCount = 0;
    this.families = [];
    this.familiesByName = new Map();
    this.current = undefined;
    this.lastSampleName = '';
    this.lastSampleFamily = undefined;
    this.lastSampleCheck = CHECK_NONE;
    this.nameFromLabels = undefined;
    let parsed = false;
    try {
      this.parseLines();
      parsed = true;
      return this.families.map(toMetricFamily);
    } finally {
      this.release(parsed);
    }
  }

  /**
   * Drops every reference into the text and the result, so the shared parser holds no memory between calls
   * (the name caches hold copies). After a parse that threw, the caches are emptied too: a label set
   * abandoned halfway may have left them with a name twice.
   */
  private release(parsed: boolean): void {
    this.text = '';
    this.length = 0;
    this.families = [];
    this.familiesByName = NO_FAMILIES;
    if (!parsed) {
      truncateNames(this.labelNameCache, 0);
      truncateNames(this.exemplarNameCache, 0);
    }
    this.current = undefined;
    this.lastSampleName = '';
    this.lastSampleFamily = undefined;
    this.nameFromLabels = undefined;
    this.boundLabel = undefined;
    this.boundValue = undefined;
  }

  private parseLines(): void {
    const text = this.text;
    const length = this.length;
    while (this.pos < length) {
      let p = this.pos;
      let c = text.charCodeAt(p);
      while (isBlank(c)) c = text.charCodeAt(++p);
      this.pos = p;
      if (p >= length) break;
      if (c !== LF) {
        const newline = text.indexOf('\n', p);
        this.lineEnd = newline === -1 ? length : newline;
        if (this.eofLine !== 0) throw this.error(`content after "# EOF" (line ${this.eofLine})`);
        if (c === HASH) this.parseCommentLine();
        else this.parseSampleLine();
        // Each line parser stops on the line's LF or at the end of the text.
        if (this.pos >= length) break;
      }
      this.pos++;
      this.line++;
    }
  }

  private error(message: string): PrometheusParseError {
    // A hostile token (a megabyte-long value or name) must not become a megabyte-long log line.
    const shown = message.length > 512 ? `${message.slice(0, 512)}… (${message.length} characters)` : message;
    return new PrometheusParseError(this.line, shown);
  }

  private skipBlanks(p: number): number {
    const text = this.text;
    while (isBlank(text.charCodeAt(p))) p++;
    return p;
  }

  private isLineEnd(p: number): boolean {
    return p >= this.lineEnd;
  }

  /** A short quoted excerpt of the token at p, for error messages. */
  private describeToken(p: number): string {
    if (this.isLineEnd(p)) return 'end of line';
    const text = this.text;
    let end = p;
    while (end < this.length && end - p < 40) {
      const c = text.charCodeAt(end);
      if (c === LF || (end > p && isBlank(c))) break;
      end++;
    }
    return JSON.stringify(text.slice(p, end));
  }

  // ---- comment lines: # HELP / # TYPE / # UNIT / # EOF / anything else is a comment ----

  private parseCommentLine(): void {
    const text = this.text;
    const afterHash = this.pos + 1;
    if (!isBlank(text.charCodeAt(afterHash))) {
      this.skipRestOfLine();
      return;
    }
    const p = this.skipBlanks(afterHash);
    const keywordEnd = p + 4;
    const keywordEndsHere = this.isLineEnd(keywordEnd) || isBlank(text.charCodeAt(keywordEnd));
    if (keywordEndsHere) {
      const kind = metadataKeywordAt(text, p);
      if (kind !== undefined) {
        this.parseMetadataLine(kind, keywordEnd);
        return;
      }
    }
    if (text.startsWith('EOF', p)) {
      const afterEof = this.skipBlanks(p + 3);
      if (this.isLineEnd(afterEof)) {
        this.eofLine = this.line;
        this.pos = afterEof;
        return;
      }
      if (afterEof > p + 3) throw this.error(`unexpected text ${this.describeToken(afterEof)} after "# EOF"`);
    }
    this.skipRestOfLine();
  }

  private skipRestOfLine(): void {
    this.pos = this.lineEnd;
  }

  private parseMetadataLine(kind: MetadataKind, afterKeyword: number): void {
    const text = this.text;
    const keyword = METADATA_KEYWORDS[kind];
    let p = this.skipBlanks(afterKeyword);
    if (this.isLineEnd(p)) throw this.error(`${keyword} line without a metric name`);
    let name: string;
    let state: FamilyState | undefined;
    let legacyName: boolean | undefined;
    const current = this.current;
    if (text.charCodeAt(p) === QUOTE) {
      this.pos = p + 1;
      name = this.readQuoted(undefined);
      p = this.pos;
      if (!(this.isLineEnd(p) || isBlank(text.charCodeAt(p)))) {
        throw this.error(`unexpected text ${this.describeToken(p)} after the quoted name in ${keyword} line`);
      }
    } else if (
      // `# TYPE x` right after `# HELP x`: reuse the family found for the HELP line.
      current !== undefined &&
      (this.isLineEnd(p + current.name.length) || isBlank(text.charCodeAt(p + current.name.length))) &&
      text.slice(p, p + current.name.length) === current.name
    ) {
      name = current.name;
      state = current;
      p += name.length;
    } else {
      const nameStart = p;
      p = metricNameEnd(text, p);
      if (p === nameStart || !(this.isLineEnd(p) || isBlank(text.charCodeAt(p)))) {
        throw this.error(`bad metric name ${this.describeToken(nameStart)} in ${keyword} line`);
      }
      name = text.slice(nameStart, p);
      legacyName = true;
    }
    p = this.skipBlanks(p);

    state ??= this.familiesByName.get(name) ?? this.addFamily(name, 'untyped', legacyName);
    if (kind === METADATA_HELP) {
      const help = this.readHelpText(p);
      if (state.helpLine !== 0) {
        throw this.error(`HELP declared twice for family ${name} (first on line ${state.helpLine})`);
      }
      state.help = help;
      state.helpLine = this.line;
    } else {
      const tokenStart = p;
      while (!this.isLineEnd(p) && !isBlank(text.charCodeAt(p))) p++;
      const token = text.slice(tokenStart, p);
      const rest = this.skipBlanks(p);
      if (!this.isLineEnd(rest)) {
        throw this.error(`unexpected text ${this.describeToken(rest)} after ${keyword} ${name} ${token}`);
      }
      this.pos = rest;
      if (kind === METADATA_TYPE) this.applyType(state, name, token);
      else {
        if (state.unitLine !== 0) {
          throw this.error(`UNIT declared twice for family ${name} (first on line ${state.unitLine})`);
        }
        state.unit = token;
        state.unitLine = this.line;
      }
    }
    this.current = state;
    this.lastSampleName = '';
  }

  private applyType(state: FamilyState, name: string, token: string): void {
    if (token === '') throw this.error(`TYPE line for ${name} without a type`);
    const type = TYPES_BY_NAME.get(token);
    if (type === undefined) {
      throw this.error(
        `unknown metric type ${JSON.stringify(token)} in TYPE line for ${name} (expected one of ${[...METRIC_TYPES].join(', ')})`,
      );
    }
    if (state.typeLine !== 0) {
      throw this.error(`TYPE declared twice for family ${name} (first on line ${state.typeLine})`);
    }
    if (state.samples.length > 0) {
      throw this.error(`TYPE for family ${name} comes after its samples`);
    }
    state.type = type;
    state.suffixes = SUFFIXES_BY_TYPE[type];
    state.sampleNames = undefined;
    state.typeLine = this.line;
  }

  /** HELP text from p to the end of the line, unescaping `\\`, `\n` (and OpenMetrics' `\"`), trailing blanks cut. */
  private readHelpText(p: number): string {
    const text = this.text;
    let end = this.lineEnd;
    while (end > p && isBlank(text.charCodeAt(end - 1))) end--;
    this.pos = this.lineEnd;
    if (this.nextBackslashFrom(p) >= end) return text.slice(p, end);
    let out = '';
    let segmentStart = p;
    for (let i = p; i < end; i++) {
      if (text.charCodeAt(i) !== BACKSLASH) continue;
      const escaped = text.charCodeAt(i + 1);
      let replacement: string;
      if (escaped === BACKSLASH) replacement = '\\';
      else if (escaped === LOWER_N) replacement = '\n';
      else if (escaped === QUOTE) replacement = '"';
      else {
        const shown = i + 1 < end ? `\\${text[i + 1]}` : '\\ at end of line';
        throw this.error(`invalid escape ${JSON.stringify(shown)} in HELP text (allowed: \\\\, \\n, \\")`);
      }
      out += text.slice(segmentStart, i) + replacement;
      i++;
      segmentStart = i + 1;
    }
    return segmentStart === p ? text.slice(p, end) : out + text.slice(segmentStart, end);
  }

  /** `legacyName`: true when the name was read unquoted (so is a legacy name), undefined when unknown. */
  private addFamily(name: string, type: MetricType, legacyName: boolean | undefined): FamilyState {
    const state: FamilyState = {
      name,
      type,
      help: undefined,
      unit: undefined,
      samples: [],
      suffixes: SUFFIXES_BY_TYPE[type],
      legacyName,
      sampleNames: undefined,
      sampleChecks: NO_CHECKS,
      typeLine: 0,
      helpLine: 0,
      unitLine: 0,
    };
    this.families.push(state);
    this.familiesByName.set(name, state);
    return state;
  }

  // ---- sample lines: name{labels} value [timestamp] [# {exemplar labels} value [timestamp]] ----

  private parseSampleLine(): void {
    const text = this.text;
    const lineEnd = this.lineEnd;
    const nameStart = this.pos;
    let p = nameStart;
    // Most sample names are the previous sample's, or one of the names of the family the last line touched
    // (right after its TYPE line, or `_sum` after `_bucket`): try those before scanning and slicing a name.
    let name = '';
    let state: FamilyState | undefined;
    let check: SampleCheck = CHECK_NONE;
    const lastName = this.lastSampleName;
    const lastNameEnd = p + lastName.length;
    if (
      lastName !== '' &&
      !hasClass(text.charCodeAt(lastNameEnd), METRIC_NAME_CHAR) &&
      text.slice(p, lastNameEnd) === lastName
    ) {
      name = lastName;
      state = this.lastSampleFamily!;
      check = this.lastSampleCheck;
    } else {
      const current = this.current;
      if (current !== undefined) {
        const names = sampleNamesOf(current);
        for (let i = 0; i < names.length; i++) {
          const candidate = names[i]!;
          if (this.isNameAt(p, candidate)) {
            name = candidate;
            state = current;
            check = current.sampleChecks[i]!;
            this.lastSampleName = name;
            this.lastSampleFamily = state;
            this.lastSampleCheck = check;
            break;
          }
        }
      }
    }
    // Whether the names of the current family were tried above: then the name is none of them.
    const currentTried =
      state === undefined && this.current !== undefined && this.current.sampleNames!.length > 0;
    if (state !== undefined) p += name.length;
    else p = metricNameEnd(text, p);
    const nameEnd = p;
    const hasBareName = nameEnd > nameStart;
    let c = text.charCodeAt(p);
    if (hasBareName && isBlank(c)) {
      // `name {labels} value`: blanks between the name and the label set are legal.
      const afterBlanks = this.skipBlanks(p);
      if (text.charCodeAt(afterBlanks) === LBRACE) {
        p = afterBlanks;
        c = LBRACE;
      }
    }

    let labels: Labels;
    this.nameFromLabels = undefined;
    // With the family known already, parseLabelSet picks out the value of the `le` / `quantile` label.
    const resolvedEarly = state !== undefined;
    this.boundValue = undefined;
    if (c === LBRACE) {
      this.pos = p + 1;
      if (resolvedEarly && check !== CHECK_NONE) this.boundLabel = check === CHECK_LE ? 'le' : 'quantile';
      labels = this.parseLabelSet(
        hasBareName ? LABELS_OF_NAMED_SAMPLE : LABELS_OF_UNNAMED_SAMPLE,
        this.labelNameCache,
      );
      this.boundLabel = undefined;
      p = this.pos;
      c = text.charCodeAt(p);
    } else if (hasBareName && isBlank(c)) {
      labels = {};
    } else {
      if (hasBareName && p >= lineEnd) {
        throw this.error(`missing value for sample ${text.slice(nameStart, nameEnd)}`);
      }
      throw this.error(`bad metric name ${this.describeToken(nameStart)}`);
    }

    if (state === undefined) {
      if (hasBareName) name = text.slice(nameStart, nameEnd);
      else if (this.nameFromLabels !== undefined) name = this.nameFromLabels;
      else throw this.error('sample without a metric name');
      state = this.resolveFamily(name, hasBareName, hasBareName && currentTried);
      check = this.sampleCheckFor(state, name);
      if (hasBareName) {
        this.lastSampleName = name;
        this.lastSampleFamily = state;
        this.lastSampleCheck = check;
      }
    }
    if (check !== CHECK_NONE) this.checkStructuralLabel(labels, name, check, resolvedEarly);

    // The value: one pass for a plain decimal ending the line or followed by a blank, else token then parse.
    if (isBlank(c)) p = this.skipBlanks(p + 1);
    let value = scanDecimal(text, p);
    if (value !== undefined && (scanEnd >= lineEnd || isBlank(text.charCodeAt(scanEnd)))) {
      p = scanEnd;
    } else {
      const valueStart = p;
      while (p < lineEnd && !isBlank(text.charCodeAt(p))) p++;
      if (p === valueStart) throw this.error(`missing value for sample ${name}`);
      value = parseNumber(text, valueStart, p);
      if (value === undefined) {
        throw this.error(`bad value ${JSON.stringify(text.slice(valueStart, p))} for sample ${name}`);
      }
    }

    let timestamp: number | undefined;
    let exemplar: Exemplar | undefined;
    if (p < lineEnd) {
      p = this.skipBlanks(p);
      c = text.charCodeAt(p);
      if (p < lineEnd && c !== HASH) {
        const timestampStart = p;
        while (p < lineEnd && !isBlank(text.charCodeAt(p))) p++;
        timestamp = this.parseTimestamp(timestampStart, p, name);
        p = this.skipBlanks(p);
        c = text.charCodeAt(p);
      }
      if (c === HASH && p < lineEnd) {
        this.pos = p + 1;
        exemplar = this.parseExemplar(name);
        p = this.pos;
      }
      if (p < lineEnd) {
        throw this.error(`unexpected text ${this.describeToken(p)} after the value of sample ${name}`);
      }
    }
    this.pos = p;

    if (this.sampleCount >= this.limits.maxSamples) {
      throw this.error(`more than ${this.limits.maxSamples} samples (limit maxSamples)`);
    }
    this.sampleCount++;
    // One object literal per shape, rather than adding fields later, keeps sample shapes few and stable.
    let sample: Sample;
    if (exemplar === undefined) {
      sample = timestamp === undefined ? { name, labels, value } : { name, labels, value, timestamp };
    } else {
      sample =
        timestamp === undefined
          ? { name, labels, value, exemplar }
          : { name, labels, value, timestamp, exemplar };
    }
    state.samples.push(sample);
    this.current = state;
  }

  /**
   * Whether the sample name at p is `name` (a legacy metric name): the character after it ends the name
   * and the text there equals it. A slice compared with === is a memory compare in V8, several times
   * faster than a character loop or startsWith.
   */
  private isNameAt(p: number, name: string): boolean {
    const end = p + name.length;
    return !hasClass(this.text.charCodeAt(end), METRIC_NAME_CHAR) && this.text.slice(p, end) === name;
  }

  /**
   * The family a sample belongs to: the current family if it owns the name, else the family whose name it
   * is (or extends with a suffix valid for that family's type), else a new untyped family named by it.
   */
  private resolveFamily(name: string, legacyName: boolean, currentTried: boolean): FamilyState {
    const current = this.current;
    if (!currentTried && current !== undefined && familyOwns(current, name)) return current;
    const exact = this.familiesByName.get(name);
    if (exact?.suffixes.includes('')) return exact;
    const last = name.charCodeAt(name.length - 1);
    for (const suffix of KNOWN_SUFFIXES) {
      // The last character first: a cheap test that rules out most suffixes.
      if (last !== suffix.charCodeAt(suffix.length - 1) || !name.endsWith(suffix)) continue;
      const base = this.familiesByName.get(name.slice(0, -suffix.length));
      if (base?.suffixes.includes(suffix)) return base;
    }
    if (exact !== undefined) {
      const expected = exact.suffixes.map((suffix) => name + suffix).join(', ');
      throw this.error(`sample ${name} does not fit ${exact.type} family ${name} (expected ${expected})`);
    }
    return this.addFamily(name, 'untyped', legacyName || undefined);
  }

  private sampleCheckFor(state: FamilyState, name: string): SampleCheck {
    const type = state.type;
    if ((type === 'histogram' || type === 'gaugehistogram') && name === `${state.name}_bucket`) {
      return CHECK_LE;
    }
    if (type === 'summary' && name === state.name) return CHECK_QUANTILE;
    return CHECK_NONE;
  }

  /** `picked`: the label set was read knowing the check, so boundValue holds the label's value (if any). */
  private checkStructuralLabel(labels: Labels, name: string, check: SampleCheck, picked: boolean): void {
    const labelName = check === CHECK_LE ? 'le' : 'quantile';
    let bound: string | undefined;
    if (picked) bound = this.boundValue;
    else bound = Object.hasOwn(labels, labelName) ? labels[labelName] : undefined;
    if (bound === undefined) throw this.error(`sample ${name} has no "${labelName}" label`);
    if (parseNumber(bound, 0, bound.length) === undefined) {
      throw this.error(`bad ${labelName} value ${JSON.stringify(bound)} in sample ${name}`);
    }
  }

  private parseTimestamp(start: number, end: number, name: string): number {
    const timestamp = parseNumber(this.text, start, end);
    if (timestamp === undefined || !Number.isFinite(timestamp)) {
      throw this.error(`bad timestamp ${JSON.stringify(this.text.slice(start, end))} for sample ${name}`);
    }
    return timestamp;
  }

  /** After the `#` that follows a sample's value: ` {labels} value [timestamp]`. */
  private parseExemplar(name: string): Exemplar {
    const text = this.text;
    let p = this.skipBlanks(this.pos);
    if (text.charCodeAt(p) !== LBRACE) {
      throw this.error(
        `bad exemplar on sample ${name}: expected "{" after "#", found ${this.describeToken(p)}`,
      );
    }
    this.pos = p + 1;
    const labels = this.parseLabelSet(LABELS_OF_EXEMPLAR, this.exemplarNameCache);
    p = this.skipBlanks(this.pos);
    const valueStart = p;
    while (!this.isLineEnd(p) && !isBlank(text.charCodeAt(p))) p++;
    if (p === valueStart) throw this.error(`missing exemplar value on sample ${name}`);
    const value = parseNumber(text, valueStart, p);
    if (value === undefined) {
      throw this.error(`bad exemplar value ${JSON.stringify(text.slice(valueStart, p))} on sample ${name}`);
    }
    p = this.skipBlanks(p);
    if (this.isLineEnd(p)) {
      this.pos = p;
      return { labels, value };
    }
    const timestampStart = p;
    while (!this.isLineEnd(p) && !isBlank(text.charCodeAt(p))) p++;
    const timestamp = this.parseTimestamp(timestampStart, p, name);
    this.pos = p;
    return { labels, value, timestamp };
  }

  /**
   * Reads label pairs after `{` through the closing `}` and returns them as an object. Allows blanks around
   * tokens, a trailing comma and `{}`. The name cache holds recent label names by position (see
   * nameFromCache).
   */
  private parseLabelSet(mode: LabelSetMode, nameCache: NameCache): Labels {
    const text = this.text;
    const maxLabels = this.limits.maxLabelsPerSample;
    let p = this.pos;
    let count = 0;
    const labels: Labels = {};
    let metricNamed = mode === LABELS_OF_NAMED_SAMPLE;
    for (;;) {
      let c = text.charCodeAt(p);
      if (isBlank(c)) {
        p = this.skipBlanks(p + 1);
        c = text.charCodeAt(p);
      }
      if (c === RBRACE) {
        p++;
        break;
      }
      if (this.isLineEnd(p)) throw this.error('unterminated label set (missing "}")');

      let labelName: string;
      let quotedName = false;
      // A name equal to the cached one at its position is known distinct from the names before it.
      let nameFromCache = false;
      if (c === QUOTE) {
        this.pos = p + 1;
        labelName = this.readQuoted(undefined);
        p = this.pos;
        quotedName = true;
        truncateNames(nameCache, count);
      } else if (hasClass(c, LABEL_NAME_START)) {
        const cached = count < nameCache.size ? nameCache.names[count] : undefined;
        // A slice compared with === is a memory compare in V8 (see isNameAt).
        if (
          cached !== undefined &&
          !hasClass(text.charCodeAt(p + cached.length), LABEL_NAME_CHAR) &&
          text.slice(p, p + cached.length) === cached
        ) {
          labelName = cached;
          p += cached.length;
          nameFromCache = true;
        } else {
          const nameStart = p;
          p++;
          while (hasClass(text.charCodeAt(p), LABEL_NAME_CHAR)) p++;
          // Dropping the later entries keeps the cache one distinct-named sequence (see nameFromCache).
          truncateNames(nameCache, count);
          if (count < MAX_CACHED_LABELS && p - nameStart <= MAX_CACHED_NAME_LENGTH) {
            labelName = internLabelName(text.slice(nameStart, p));
            nameCache.names[count] = labelName;
            nameCache.size = count + 1;
          } else {
            labelName = text.slice(nameStart, p);
          }
        }
      } else {
        throw this.error(`bad label name: expected a label name, found ${this.describeToken(p)}`);
      }

      c = text.charCodeAt(p);
      if (c === EQUALS && text.charCodeAt(p + 1) === QUOTE) {
        p += 2;
      } else {
        if (isBlank(c)) {
          p = this.skipBlanks(p + 1);
          c = text.charCodeAt(p);
        }
        if (c !== EQUALS) {
          // `{"my.metric", ...}`: a quoted term without a value names the metric (UTF-8 names).
          if (quotedName && !metricNamed && mode !== LABELS_OF_EXEMPLAR && (c === COMMA || c === RBRACE)) {
            this.nameFromLabels = labelName;
            metricNamed = true;
            if (c === COMMA) p++;
            continue;
          }
          if (this.isLineEnd(p)) throw this.error('unterminated label set (missing "}")');
          throw this.error(
            `expected "=" after label name ${JSON.stringify(labelName)}, found ${this.describeToken(p)}`,
          );
        }
        p = this.skipBlanks(p + 1);
        if (text.charCodeAt(p) !== QUOTE) {
          throw this.error(
            `label value for ${JSON.stringify(labelName)} must be a quoted string, found ${this.describeToken(p)}`,
          );
        }
        p++;
      }

      // readQuoted's common case inline: the closing quote on this line, no backslash before it, not too long.
      let value: string;
      const close = text.indexOf('"', p);
      if (
        close !== -1 &&
        close < this.lineEnd &&
        this.nextBackslash > close &&
        close - p <= this.limits.maxLabelValueLength
      ) {
        value = text.slice(p, close);
        p = close + 1;
      } else {
        this.pos = p;
        value = this.readQuoted(labelName);
        p = this.pos;
      }

      if (labelName === '__name__' && mode !== LABELS_OF_EXEMPLAR) {
        if (metricNamed) throw this.error(`metric name given twice (label __name__="${value}")`);
        this.nameFromLabels = value;
        metricNamed = true;
      } else {
        if (count >= maxLabels) {
          throw this.error(`more than ${maxLabels} labels on one sample (limit maxLabelsPerSample)`);
        }
        // The own-property check runs only for names not known distinct (see nameFromCache).
        if (!nameFromCache && Object.hasOwn(labels, labelName)) {
          throw this.error(`duplicate label name ${JSON.stringify(labelName)}`);
        }
        if (labelName === '__proto__') {
          Object.defineProperty(labels, labelName, {
            value,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        } else {
          labels[labelName] = value;
        }
        if (labelName === this.boundLabel) this.boundValue = value;
        count++;
      }

      c = text.charCodeAt(p);
      if (isBlank(c)) {
        p = this.skipBlanks(p + 1);
        c = text.charCodeAt(p);
      }
      if (c === COMMA) {
        p++;
        continue;
      }
      if (c === RBRACE) {
        p++;
        break;
      }
      if (this.isLineEnd(p)) throw this.error('unterminated label set (missing "}")');
      throw this.error(
        `expected "," or "}" after the value of label ${JSON.stringify(labelName)}, found ${this.describeToken(p)}`,
      );
    }
    this.pos = p;
    return labels;
  }

  /**
   * Reads a quoted string whose opening quote is just before this.pos, leaving pos after the closing quote.
   * `labelName` names the label whose value this is; undefined for a quoted metric or label name.
   */
  private readQuoted(labelName: string | undefined): string {
    const text = this.text;
    const start = this.pos;
    const close = text.indexOf('"', start);
    // Even an escaped quote is a quote character, so none before the line end means unterminated.
    if (close === -1 || close >= this.lineEnd) throw this.unterminatedQuote(labelName);
    let value: string;
    if (this.nextBackslashFrom(start) > close) {
      value = text.slice(start, close);
      this.pos = close + 1;
    } else {
      value = this.readEscapedQuoted(labelName);
    }
    if (labelName !== undefined && value.length > this.limits.maxLabelValueLength) {
      throw this.error(
        `label value for ${JSON.stringify(labelName)} longer than ${this.limits.maxLabelValueLength} characters (limit maxLabelValueLength)`,
      );
    }
    return value;
  }

  /** The slow path of readQuoted for strings holding escapes: unescapes `\\`, `\"` and `\n`. */
  private readEscapedQuoted(labelName: string | undefined): string {
    const text = this.text;
    const lineEnd = this.lineEnd;
    let p = this.pos;
    let out = '';
    let segmentStart = p;
    for (;;) {
      if (p >= lineEnd) throw this.unterminatedQuote(labelName);
      const c = text.charCodeAt(p);
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        const next = text.charCodeAt(p + 1);
        let replacement: string;
        if (next === BACKSLASH) replacement = '\\';
        else if (next === QUOTE) replacement = '"';
        else if (next === LOWER_N) replacement = '\n';
        else {
          const shown = p + 1 < lineEnd ? `\\${text[p + 1]}` : '\\ at end of line';
          const where =
            labelName === undefined ? 'quoted name' : `label value for ${JSON.stringify(labelName)}`;
          throw this.error(`invalid escape ${JSON.stringify(shown)} in ${where} (allowed: \\\\, \\", \\n)`);
        }
        out += text.slice(segmentStart, p) + replacement;
        p += 2;
        segmentStart = p;
        continue;
      }
      p++;
    }
    this.pos = p + 1;
    return out + text.slice(segmentStart, p);
  }

  /** Index of the first backslash at or after `start` (the text length if none), searched once per backslash. */
  private nextBackslashFrom(start: number): number {
    let backslash = this.nextBackslash;
    if (backslash < start) {
      backslash = this.text.indexOf('\\', start);
      if (backslash === -1) backslash = this.length;
      this.nextBackslash = backslash;
    }
    return backslash;
  }

  private unterminatedQuote(labelName: string | undefined): PrometheusParseError {
    const where = labelName === undefined ? 'quoted name' : `label value for ${JSON.stringify(labelName)}`;
    return this.error(`unterminated ${where} (missing closing quote)`);
  }
}

const NO_CHECKS: readonly SampleCheck[] = [];
/** Per type, the structural label each of its suffixes (SUFFIXES_BY_TYPE) needs. */
const CHECKS_BY_TYPE = {} as Record<MetricType, readonly SampleCheck[]>;
for (const type of Object.keys(SUFFIXES_BY_TYPE) as MetricType[]) {
  const histogram = type === 'histogram' || type === 'gaugehistogram';
  CHECKS_BY_TYPE[type] = SUFFIXES_BY_TYPE[type].map((suffix): SampleCheck => {
    if (histogram && suffix === '_bucket') return CHECK_LE;
    return type === 'summary' && suffix === '' ? CHECK_QUANTILE : CHECK_NONE;
  });
}
/** What familiesByName holds between parses (never written: parse() starts a new map). */
const NO_FAMILIES = new Map<string, FamilyState>();

/**
 * Label names by position in the label sets read so far (see parseLabelSet): entries below `size` count,
 * and the names up to any position are distinct from one another.
 */
interface NameCache {
  names: (string | undefined)[];
  size: number;
}

// Bounds on what the name caches keep between parses: hostile text must not park big strings in them.
const MAX_CACHED_LABELS = 64;
const MAX_CACHED_NAME_LENGTH = 256;

/** Keeps the first n entries (positions past the old size become empty), dropping the rest. */
function truncateNames(cache: NameCache, n: number): void {
  if (n > MAX_CACHED_LABELS) n = MAX_CACHED_LABELS;
  for (let i = cache.size; i < n; i++) cache.names[i] = undefined;
  cache.size = n;
}

/**
 * Label names met so far, each mapped to a copy of itself (see copyOf): a label name read outside the
 * position cache is usually one met before, and the copy kept here is already known to V8 as a property
 * name. Bounded; once full, names are only copied.
 */
const labelNameTable = new Map<string, string>();
const MAX_INTERNED_LABEL_NAMES = 4096;

function internLabelName(name: string): string {
  let interned = labelNameTable.get(name);
  if (interned === undefined) {
    interned = copyOf(name);
    if (labelNameTable.size < MAX_INTERNED_LABEL_NAMES) labelNameTable.set(interned, interned);
  }
  return interned;
}

/**
 * A copy of s that shares no memory with the string it was sliced from (V8 makes a slice of 13 or more
 * characters a view of its parent, which would keep a whole scrape alive from a cache).
 */
function copyOf(s: string): string {
  return `${s} `.slice(0, -1);
}

/** The family's sample names and their structural checks (see FamilyState.sampleNames), made on first use. */
function sampleNamesOf(state: FamilyState): readonly string[] {
  if (state.sampleNames !== undefined) return state.sampleNames;
  const { name, type, suffixes } = state;
  state.legacyName ??= isLegacyMetricName(name);
  const names = state.legacyName ? suffixes.map((suffix) => (suffix === '' ? name : name + suffix)) : [];
  state.sampleChecks = CHECKS_BY_TYPE[type];
  state.sampleNames = names;
  return names;
}

/** A legacy metric name, [a-zA-Z_:][a-zA-Z0-9_:]* (sticky: it matches at lastIndex or not at all). */
const METRIC_NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;

/**
 * The end of the legacy metric name starting at p (p itself when none starts there). A sticky regular
 * expression: for names of 20 and more characters, as most are, about twice as fast as a character loop.
 */
function metricNameEnd(text: string, p: number): number {
  METRIC_NAME.lastIndex = p;
  return METRIC_NAME.test(text) ? METRIC_NAME.lastIndex : p;
}

/** Whether `name` matches [a-zA-Z_:][a-zA-Z0-9_:]*, i.e. could be written unquoted as a sample name. */
function isLegacyMetricName(name: string): boolean {
  if (!hasClass(name.charCodeAt(0), METRIC_NAME_START)) return false;
  for (let i = 1; i < name.length; i++) {
    if (!hasClass(name.charCodeAt(i), METRIC_NAME_CHAR)) return false;
  }
  return true;
}

function familyOwns(state: FamilyState, name: string): boolean {
  const familyName = state.name;
  if (name === familyName) return state.suffixes.includes('');
  return name.startsWith(familyName) && state.suffixes.includes(name.slice(familyName.length));
}

/**
 * One parser reused by every call (parsing is synchronous, so calls never overlap). A fresh instance per
 * call would let the garbage collector drop its hidden class between scrapes, which throws away V8's
 * optimised code for the whole parser and makes the next scrape start in the interpreter.
 */
const sharedParser = new TextParser();

/** The public shape of a parsed family: `help` and `unit` present only when the text declared them. */
function toMetricFamily(state: FamilyState): MetricFamily {
  const { name, type, help, unit, samples } = state;
  if (help === undefined) return unit === undefined ? { name, type, samples } : { name, type, unit, samples };
  return unit === undefined ? { name, type, help, samples } : { name, type, help, unit, samples };
}
