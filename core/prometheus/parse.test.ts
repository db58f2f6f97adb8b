// Hand-written cases for the Prometheus/OpenMetrics text parser: each feature of the format, and each kind
// of broken line with the line number the error must name.

import { describe, expect, it } from 'vitest';
import { PrometheusParseError } from '../errors.ts';
import { DEFAULT_PARSE_LIMITS, parsePrometheusText } from './parse.ts';
import type { MetricFamily, ParseLimits } from './types.ts';

/** Joins lines with LF, so a case's line numbers are its array indexes + 1. */
function lines(...textLines: string[]): string {
  return `${textLines.join('\n')}\n`;
}

function parseError(text: string, limits?: Partial<ParseLimits>): PrometheusParseError {
  try {
    parsePrometheusText(text, limits);
  } catch (error) {
    if (error instanceof PrometheusParseError) return error;
    throw error;
  }
  throw new Error('expected a PrometheusParseError, but the text parsed');
}

function expectError(text: string, line: number, messagePart: string, limits?: Partial<ParseLimits>): void {
  const error = parseError(text, limits);
  expect(error.message).toContain(messagePart);
  expect(error.line).toBe(line);
  expect(error.message.startsWith(`line ${line}: `)).toBe(true);
}

function only(families: MetricFamily[]): MetricFamily {
  expect(families).toHaveLength(1);
  return families[0]!;
}

describe('parsePrometheusText: metadata lines', () => {
  it('reads HELP with \\\\ and \\n escapes, TYPE and UNIT', () => {
    const family = only(
      parsePrometheusText(
        lines(
          '# HELP gpu_temp_celsius GPU temperature\\nper device, path C:\\\\gpu',
          '# TYPE gpu_temp_celsius gauge',
          '# UNIT gpu_temp_celsius celsius',
          'gpu_temp_celsius 61',
        ),
      ),
    );
    expect(family).toEqual({
      name: 'gpu_temp_celsius',
      type: 'gauge',
      help: 'GPU temperature\nper device, path C:\\gpu',
      unit: 'celsius',
      samples: [{ name: 'gpu_temp_celsius', labels: {}, value: 61 }],
    });
  });

  it('gives an empty HELP for a HELP line with no text and trims trailing blanks', () => {
    const families = parsePrometheusText(lines('# HELP a', '# HELP b  spaced   out  \t', 'a 1', 'b 2'));
    expect(families.map((f) => f.help)).toEqual(['', 'spaced   out']);
  });

  it('keeps families declared by HELP/TYPE that have no samples', () => {
    const families = parsePrometheusText(lines('# HELP a x', '# TYPE a summary', '# TYPE b histogram'));
    expect(families).toEqual([
      { name: 'a', type: 'summary', help: 'x', samples: [] },
      { name: 'b', type: 'histogram', samples: [] },
    ]);
  });

  it('accepts every known type', () => {
    const types = [
      'counter',
      'gauge',
      'histogram',
      'gaugehistogram',
      'summary',
      'info',
      'stateset',
      'untyped',
    ];
    const text = lines(...types.map((type, index) => `# TYPE m${index} ${type}`), '# TYPE m_unknown unknown');
    expect(parsePrometheusText(text).map((f) => f.type)).toEqual([...types, 'unknown']);
  });

  it('treats other # lines as comments: # NOTE, #comment, a lone #', () => {
    const families = parsePrometheusText(
      lines(
        '# NOTE these are dummy values',
        '#comment without a blank',
        '#',
        '# HELPER not a keyword',
        'a 1',
      ),
    );
    expect(only(families).samples).toEqual([{ name: 'a', labels: {}, value: 1 }]);
  });

  it('stops at # EOF and allows only blank lines after it', () => {
    const families = parsePrometheusText('# TYPE a counter\na_total 1\n# EOF\n\n');
    expect(only(families).samples[0]).toEqual({ name: 'a_total', labels: {}, value: 1 });
    expect(parsePrometheusText('a 1\n# EOF')).toHaveLength(1);
  });

  it('reads quoted (UTF-8) metric names in metadata and in braces', () => {
    const family = only(
      parsePrometheusText(
        lines('# TYPE "gpu.util" gauge', '{"gpu.util", "device.id"="0"} 0.5', '{"gpu.util"} 0.25'),
      ),
    );
    expect(family.name).toBe('gpu.util');
    expect(family.samples).toEqual([
      { name: 'gpu.util', labels: { 'device.id': '0' }, value: 0.5 },
      { name: 'gpu.util', labels: {}, value: 0.25 },
    ]);
  });

  it('takes the metric name from a __name__ label when none precedes the braces', () => {
    const family = only(parsePrometheusText(lines('{__name__="up",job="x"} 1')));
    expect(family).toEqual({
      name: 'up',
      type: 'untyped',
      samples: [{ name: 'up', labels: { job: 'x' }, value: 1 }],
    });
  });
});

describe('parsePrometheusText: labels', () => {
  it('unescapes \\", \\\\ and \\n in label values', () => {
    const sample = only(parsePrometheusText(lines('a{path="C:\\\\x",quote="say \\"hi\\"",nl="1\\n2"} 1')))
      .samples[0];
    expect(sample?.labels).toEqual({ path: 'C:\\x', quote: 'say "hi"', nl: '1\n2' });
  });

  it('accepts an empty label set, a trailing comma and blanks around tokens', () => {
    const samples = only(
      parsePrometheusText(lines('a{} 1', 'a{x="1",} 2', 'a{ x = "1" ,\ty="2" , } 3', 'a {x="1"} 4')),
    ).samples;
    expect(samples.map((s) => s.labels)).toEqual([{}, { x: '1' }, { x: '1', y: '2' }, { x: '1' }]);
  });

  it('accepts label names with any legal characters, including ones Object.prototype has', () => {
    const sample = only(
      parsePrometheusText(
        lines(
          'a{_x="1",X9_y="2",__meta_z="3",constructor="4",toString="5",__proto__="6",hasOwnProperty="7"} 1',
        ),
      ),
    ).samples[0]!;
    expect(Object.keys(sample.labels)).toEqual([
      '_x',
      'X9_y',
      '__meta_z',
      'constructor',
      'toString',
      '__proto__',
      'hasOwnProperty',
    ]);
    // Stored as an own property, not as the object's prototype.
    expect(Object.getOwnPropertyDescriptor(sample.labels, '__proto__')?.value).toBe('6');
    expect(Object.getPrototypeOf(sample.labels)).toBe(Object.prototype);
  });

  it('does not confuse label names or values that share a prefix with the previous sample', () => {
    const samples = only(
      parsePrometheusText(
        lines(
          'a{gpu="0",mode="ab"} 1',
          'a{gpu_id="0",mode="abc"} 2',
          'a{gpu="0",mode="a"} 3',
          'a{gpu="",mode="a\\"b"} 4',
        ),
      ),
    ).samples;
    expect(samples.map((s) => s.labels)).toEqual([
      { gpu: '0', mode: 'ab' },
      { gpu_id: '0', mode: 'abc' },
      { gpu: '0', mode: 'a' },
      { gpu: '', mode: 'a"b' },
    ]);
  });

  it('detects a duplicate label name even where names repeat the previous sample', () => {
    expectError(lines('a{x="1",y="2"} 1', 'a{x="1",x="2"} 2'), 2, 'duplicate label name "x"');
    expectError(lines('a{x="1",y="2"} 1', 'a{y="1"} 2', 'a{y="1",y="2"} 3'), 3, 'duplicate label name "y"');
  });

  it('keeps non-ASCII text in label values and HELP as written', () => {
    const family = only(
      parsePrometheusText(lines('# HELP a Température 🌡', 'a{model="Llama-3 «8B»",host="nœud-1"} 1')),
    );
    expect(family.help).toBe('Température 🌡');
    expect(family.samples[0]?.labels).toEqual({ model: 'Llama-3 «8B»', host: 'nœud-1' });
  });

  it('unescapes values wherever the escapes sit among plain lines', () => {
    const families = parsePrometheusText(
      lines(
        '# HELP a plain',
        'a{x="plain"} 1',
        'a{x="tab\\\\t"} 2',
        '# HELP b with \\\\ slash',
        'b{x="plain"} 3',
        'b{x="q\\"q"} 4',
      ),
    );
    expect(families.map((f) => f.help)).toEqual(['plain', 'with \\ slash']);
    expect(families.flatMap((f) => f.samples.map((s) => s.labels['x']))).toEqual([
      'plain',
      'tab\\t',
      'plain',
      'q"q',
    ]);
  });

  it('names samples after the family before them only where the name is written out unquoted', () => {
    // A quoted family name is no bare sample name, even when the bare text before its `.` matches.
    expectError(lines('# TYPE "my.metric" gauge', 'my.metric 1'), 2, 'bad metric name');
    const families = parsePrometheusText(
      lines('# TYPE h histogram', 'h_bucket{le="+Inf"} 1', 'h_count 1', 'h_sum 2', 'h_total 3'),
    );
    expect(families.map((f) => [f.name, f.type, f.samples.map((s) => s.name).join()])).toEqual([
      ['h', 'histogram', 'h_bucket,h_count,h_sum'],
      ['h_total', 'untyped', 'h_total'],
    ]);
  });

  it('keeps each sample its own labels object', () => {
    const samples = only(parsePrometheusText(lines('a 1', 'a 2'))).samples;
    expect(samples[0]?.labels).not.toBe(samples[1]?.labels);
  });
});

describe('parsePrometheusText: values and timestamps', () => {
  it('reads integers, floats, exponents, Inf and NaN', () => {
    const written = [
      '0',
      '-0.5',
      '+3',
      '.5',
      '5.',
      '1e3',
      '1.5E-3',
      '2.5e+2',
      '8.969000',
      '1.7740114612872875e+09',
      '123456789012345678901234567890',
      '0.1',
      '+Inf',
      '-Inf',
      'Inf',
      'inf',
      'NaN',
      'nan',
    ];
    const values = only(parsePrometheusText(lines(...written.map((value) => `a ${value}`)))).samples.map(
      (s) => s.value,
    );
    expect(values).toEqual([
      0,
      -0.5,
      3,
      0.5,
      5,
      1000,
      0.0015,
      250,
      8.969,
      1774011461.2872875,
      1.2345678901234568e29,
      0.1,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      Number.POSITIVE_INFINITY,
      Number.POSITIVE_INFINITY,
      Number.NaN,
      Number.NaN,
    ]);
  });

  it('parses decimal numbers exactly as Number() does', () => {
    // A fixed-seed generator so the check is the same on every run.
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const written: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const magnitude = 10 ** Math.floor(random() * 40 - 20);
      const value = random() * magnitude * (random() < 0.5 ? -1 : 1);
      written.push(
        i % 3 === 0
          ? value.toString()
          : i % 3 === 1
            ? value.toExponential(8)
            : value.toFixed(Math.floor(random() * 20)),
      );
    }
    const values = only(parsePrometheusText(lines(...written.map((value) => `a ${value}`)))).samples.map(
      (s) => s.value,
    );
    expect(values).toEqual(written.map(Number));
  });

  it('reads optional integer and float timestamps', () => {
    const samples = only(
      parsePrometheusText(lines('a 1 1700000000000', 'a 2', 'a 3 1.7e9', 'a 4 -5')),
    ).samples;
    expect(samples.map((s) => s.timestamp)).toEqual([1_700_000_000_000, undefined, 1.7e9, -5]);
    expect('timestamp' in samples[1]!).toBe(false);
  });

  it('reads OpenMetrics exemplars with and without a timestamp, after a value or a timestamp', () => {
    const samples = only(
      parsePrometheusText(
        lines(
          '# TYPE req histogram',
          'req_bucket{le="0.5"} 3 # {trace_id="abc"} 0.43 1.6e9',
          'req_bucket{le="+Inf"} 4 1700000000 # {trace_id="def",span_id="1"} 1.0',
          'req_sum 2.1',
          'req_count 4',
          '# EOF',
        ),
      ),
    ).samples;
    expect(samples[0]).toEqual({
      name: 'req_bucket',
      labels: { le: '0.5' },
      value: 3,
      exemplar: { labels: { trace_id: 'abc' }, value: 0.43, timestamp: 1.6e9 },
    });
    expect(samples[1]).toEqual({
      name: 'req_bucket',
      labels: { le: '+Inf' },
      value: 4,
      timestamp: 1_700_000_000,
      exemplar: { labels: { trace_id: 'def', span_id: '1' }, value: 1 },
    });
  });
});

describe('parsePrometheusText: grouping samples into families', () => {
  it('groups Prometheus-style counters (TYPE name with _total)', () => {
    const families = parsePrometheusText(
      lines(
        '# HELP vllm:prompt_tokens_total Prefill tokens.',
        '# TYPE vllm:prompt_tokens_total counter',
        'vllm:prompt_tokens_total{engine="0"} 12.0',
        '# HELP vllm:prompt_tokens_created Prefill tokens.',
        '# TYPE vllm:prompt_tokens_created gauge',
        'vllm:prompt_tokens_created{engine="0"} 1.7e9',
      ),
    );
    expect(families.map((f) => [f.name, f.type, f.samples.map((s) => s.name)])).toEqual([
      ['vllm:prompt_tokens_total', 'counter', ['vllm:prompt_tokens_total']],
      ['vllm:prompt_tokens_created', 'gauge', ['vllm:prompt_tokens_created']],
    ]);
  });

  it('groups OpenMetrics counters with _total and _created, and info families with _info', () => {
    const families = parsePrometheusText(
      lines(
        '# TYPE jobs counter',
        'jobs_total 3',
        'jobs_created 1.6e9',
        '# TYPE build info',
        'build_info{version="1.2"} 1',
        '# EOF',
      ),
    );
    expect(families.map((f) => [f.name, f.type, f.samples.map((s) => s.name)])).toEqual([
      ['jobs', 'counter', ['jobs_total', 'jobs_created']],
      ['build', 'info', ['build_info']],
    ]);
  });

  it('groups histograms (_bucket with le, _sum, _count, _created) and gauge histograms', () => {
    const families = parsePrometheusText(
      lines(
        '# TYPE lat histogram',
        'lat_bucket{le="0.1"} 1',
        'lat_bucket{le="+Inf"} 2',
        'lat_sum 0.3',
        'lat_count 2',
        'lat_created 1.6e9',
        '# TYPE queue gaugehistogram',
        'queue_bucket{le="1"} 0',
        'queue_bucket{le="+Inf"} 5',
        'queue_gcount 5',
        'queue_gsum 7',
      ),
    );
    expect(families.map((f) => [f.name, f.type, f.samples.map((s) => s.name)])).toEqual([
      ['lat', 'histogram', ['lat_bucket', 'lat_bucket', 'lat_sum', 'lat_count', 'lat_created']],
      ['queue', 'gaugehistogram', ['queue_bucket', 'queue_bucket', 'queue_gcount', 'queue_gsum']],
    ]);
  });

  it('groups summaries (quantile samples, _sum, _count)', () => {
    const family = only(
      parsePrometheusText(
        lines(
          '# TYPE rpc summary',
          'rpc{quantile="0.5"} 1',
          'rpc{quantile="0.99"} NaN',
          'rpc_sum 9',
          'rpc_count 3',
        ),
      ),
    );
    expect(family.samples.map((s) => [s.name, s.labels['quantile']])).toEqual([
      ['rpc', '0.5'],
      ['rpc', '0.99'],
      ['rpc_sum', undefined],
      ['rpc_count', undefined],
    ]);
  });

  it('puts samples without TYPE into untyped families named by the sample, one per name', () => {
    const families = parsePrometheusText(
      lines('gpu_util{gpu="0"} 1', 'gpu_util{gpu="1"} 2', 'mem_used 3', '', 'gpu_util{gpu="0",mig="1g"} 4'),
    );
    expect(families.map((f) => [f.name, f.type, f.samples.length])).toEqual([
      ['gpu_util', 'untyped', 3],
      ['mem_used', 'untyped', 1],
    ]);
  });

  it('does not put a sample into a family whose type does not own its suffix', () => {
    const families = parsePrometheusText(lines('# TYPE up gauge', 'up 1', 'up_total 2', 'up_count 3'));
    expect(families.map((f) => [f.name, f.type])).toEqual([
      ['up', 'gauge'],
      ['up_total', 'untyped'],
      ['up_count', 'untyped'],
    ]);
  });

  it('puts a later sample back into its declared family', () => {
    const families = parsePrometheusText(
      lines('# TYPE a histogram', 'a_count 1', '# TYPE b gauge', 'b 1', 'a_sum 2', 'b 3'),
    );
    expect(families.map((f) => [f.name, f.samples.map((s) => s.name)])).toEqual([
      ['a', ['a_count', 'a_sum']],
      ['b', ['b', 'b']],
    ]);
  });

  it('returns no families for an empty or comment-only text', () => {
    expect(parsePrometheusText('')).toEqual([]);
    expect(parsePrometheusText('\n\n# just a comment\n')).toEqual([]);
  });
});

describe('parsePrometheusText: layout', () => {
  it('accepts CRLF line endings, tabs, multiple spaces, leading blanks and blank lines', () => {
    const text = [
      '# HELP  a \t the a',
      '#\tTYPE\ta\tgauge',
      '',
      '  a{x="1"}\t\t5   1700000000000  ',
      '   ',
      'a{x="2"}    6',
      '',
    ].join('\r\n');
    expect(parsePrometheusText(text)).toEqual([
      {
        name: 'a',
        type: 'gauge',
        help: 'the a',
        samples: [
          { name: 'a', labels: { x: '1' }, value: 5, timestamp: 1_700_000_000_000 },
          { name: 'a', labels: { x: '2' }, value: 6 },
        ],
      },
    ]);
  });

  it('accepts a last line without a newline', () => {
    expect(only(parsePrometheusText('a 1')).samples).toEqual([{ name: 'a', labels: {}, value: 1 }]);
  });

  it('counts lines across CRLF endings in errors', () => {
    expectError('a 1\r\n\r\n# TYPE b gauge\r\nb abc\r\n', 4, 'bad value "abc"');
  });
});

describe('parsePrometheusText: broken input', () => {
  it('throws PrometheusParseError of kind parse', () => {
    const error = parseError('a abc');
    expect(error).toBeInstanceOf(PrometheusParseError);
    expect(error.kind).toBe('parse');
    expect(error.name).toBe('PrometheusParseError');
  });

  it.each([
    ['unterminated label value', lines('a 1', 'a{x="1} 2'), 2, 'unterminated label value for "x"'],
    [
      'label value running into the next line',
      lines('a{x="1', '"} 2'),
      1,
      'unterminated label value for "x"',
    ],
    ['label value at the end of the text', 'a{x="1', 1, 'unterminated label value for "x"'],
    ['missing value after labels', lines('a 1', 'a{x="1"}'), 2, 'missing value for sample a'],
    ['missing value after a bare name', lines('a'), 1, 'missing value for sample a'],
    ['missing value after a bare name and blanks', lines('ok 1', 'a   '), 2, 'missing value for sample a'],
    ['bad value', lines('# TYPE a gauge', 'a abc'), 2, 'bad value "abc" for sample a'],
    ['bad value with a digit separator', lines('a 1_000'), 1, 'bad value "1_000"'],
    ['bad value: hexadecimal', lines('a 0x10'), 1, 'bad value "0x10"'],
    ['bad value: signed NaN', lines('a -NaN'), 1, 'bad value "-NaN"'],
    ['bad value: lone exponent', lines('a 1e'), 1, 'bad value "1e"'],
    ['bad timestamp', lines('a 1 abc'), 1, 'bad timestamp "abc" for sample a'],
    ['non-finite timestamp', lines('a 1', 'a 1 NaN'), 2, 'bad timestamp "NaN"'],
    ['text after the timestamp', lines('a 1 2 3'), 1, 'unexpected text "3"'],
    ['metric name starting with a digit', lines('9a 1'), 1, 'bad metric name "9a"'],
    ['metric name with a dash', lines('a 1', 'gpu-util 1'), 2, 'bad metric name "gpu-util"'],
    ['sample without a name', lines('{x="1"} 1'), 1, 'sample without a metric name'],
    ['metric name given twice', lines('a{__name__="b"} 1'), 1, 'metric name given twice'],
    [
      'invalid escape in a label value',
      lines('a{x="\\t"} 1'),
      1,
      'invalid escape "\\\\t" in label value for "x"',
    ],
    ['invalid escape in HELP', lines('# HELP a C:\\temp'), 1, 'invalid escape "\\\\t" in HELP text'],
    ['duplicate label name', lines('a{x="1",y="2",x="3"} 1'), 1, 'duplicate label name "x"'],
    [
      'unterminated label set',
      lines('a 1', 'a{x="1" 2'),
      2,
      'expected "," or "}" after the value of label "x"',
    ],
    ['label set cut at the line end', lines('a{x="1",', 'b 1'), 1, 'unterminated label set'],
    ['label set with no closing brace', lines('a{'), 1, 'unterminated label set'],
    ['label without =', lines('a{x} 1'), 1, 'expected "=" after label name "x"'],
    ['unquoted label value', lines('a{x=1} 1'), 1, 'label value for "x" must be a quoted string'],
    ['bad label name', lines('a{1x="1"} 1'), 1, 'bad label name'],
    ['leading comma in labels', lines('a{,x="1"} 1'), 1, 'bad label name'],
    ['double comma in labels', lines('a{x="1",,y="2"} 1'), 1, 'bad label name'],
    ['TYPE with an unknown type', lines('# HELP a x', '# TYPE a gauges'), 2, 'unknown metric type "gauges"'],
    ['TYPE without a type', lines('# TYPE a'), 1, 'TYPE line for a without a type'],
    ['TYPE with extra text', lines('# TYPE a gauge extra'), 1, 'unexpected text "extra"'],
    [
      'TYPE declared twice',
      lines('# TYPE a gauge', 'a 1', '# TYPE a gauge'),
      3,
      'TYPE declared twice for family a',
    ],
    [
      'TYPE after the samples',
      lines('a 1', '# TYPE a gauge'),
      2,
      'TYPE for family a comes after its samples',
    ],
    ['HELP declared twice', lines('# HELP a x', '# HELP a y'), 2, 'HELP declared twice for family a'],
    ['UNIT declared twice', lines('# UNIT a_s s', '# UNIT a_s s'), 2, 'UNIT declared twice for family a_s'],
    ['HELP without a metric name', lines('a 1', '# HELP  '), 2, 'HELP line without a metric name'],
    ['TYPE with a bad metric name', lines('# TYPE 1a gauge'), 1, 'bad metric name "1a" in TYPE line'],
    ['content after # EOF', lines('a 1', '# EOF', 'b 2'), 3, 'content after "# EOF" (line 2)'],
    ['text after # EOF', lines('# EOF now'), 1, 'unexpected text "now" after "# EOF"'],
    [
      'histogram bucket without le',
      lines('# TYPE h histogram', 'h_bucket 1'),
      2,
      'sample h_bucket has no "le" label',
    ],
    [
      'histogram bucket with a bad le',
      lines('# TYPE h histogram', 'h_bucket{le="x"} 1'),
      2,
      'bad le value "x"',
    ],
    [
      'summary quantile without quantile',
      lines('# TYPE s summary', 's 1'),
      2,
      'sample s has no "quantile" label',
    ],
    [
      'sample named like its histogram',
      lines('# TYPE h histogram', 'h 1'),
      2,
      'sample h does not fit histogram family h',
    ],
    ['exemplar without braces', lines('a_total 1 # trace 1'), 1, 'bad exemplar on sample a_total'],
    ['exemplar without a value', lines('a_total 1 # {t="1"}'), 1, 'missing exemplar value'],
  ])('%s', (_case, text, line, messagePart) => {
    expectError(text, line, messagePart);
  });
});

describe('parsePrometheusText: repeated calls', () => {
  it('parses normally after a call that threw', () => {
    expect(() => parsePrometheusText(lines('# TYPE a gauge', 'a{x="1"} 1', 'a{x="1" 2'))).toThrow(
      PrometheusParseError,
    );
    expect(parsePrometheusText(lines('# TYPE a gauge', 'a{x="1"} 1'))).toEqual([
      { name: 'a', type: 'gauge', samples: [{ name: 'a', labels: { x: '1' }, value: 1 }] },
    ]);
  });

  it('detects a duplicate label name in the call after one that threw with the name repeated', () => {
    // The label-name cache outlives a call; one that threw mid label set must not leave it holding x twice.
    expect(() => parsePrometheusText(lines('a{x="1",x="2"} 1'))).toThrow('duplicate label name "x"');
    expectError(lines('a{x="1",x="2"} 1'), 1, 'duplicate label name "x"');
    expect(() => parsePrometheusText(lines('a{x="1",y="2"} 1', 'a{x="1",y="2",x="3"} 1'))).toThrow(
      'duplicate label name "x"',
    );
    expectError(lines('a{x="1",y="2",x="3"} 1'), 1, 'duplicate label name "x"');
  });

  it('reads the same labels whatever label sets the calls before read', () => {
    const text = lines(
      'm{a="1",b="2",c="3"} 1',
      'm{b="2",c="3"} 2',
      'm{c="3",a="1"} 3',
      'm{a="1",c="3",b="2"} 4',
    );
    const expected = [
      { a: '1', b: '2', c: '3' },
      { b: '2', c: '3' },
      { c: '3', a: '1' },
      { a: '1', c: '3', b: '2' },
    ];
    for (const before of ['m{c="0",b="0",a="0"} 0', 'm{a="0",b="0",c="0",d="0"} 0', 'm{"a"="0"} 0', 'm 0']) {
      parsePrometheusText(lines(before));
      const samples = only(parsePrometheusText(text)).samples;
      expect(samples.map((s) => s.labels)).toEqual(expected);
      expect(samples.map((s) => Object.keys(s.labels).join())).toEqual(['a,b,c', 'b,c', 'c,a', 'a,c,b']);
    }
  });

  it('leaves earlier results untouched by later calls', () => {
    const first = parsePrometheusText(lines('# HELP a first', 'a{x="1"} 1'));
    const snapshot = structuredClone(first);
    parsePrometheusText(lines('# HELP a second', 'a{y="2"} 2', 'b 3'));
    expect(first).toEqual(snapshot);
  });
});

describe('parsePrometheusText: limits', () => {
  it('has documented defaults', () => {
    expect(DEFAULT_PARSE_LIMITS).toEqual({
      maxSamples: 200_000,
      maxLabelValueLength: 4096,
      maxLabelsPerSample: 64,
    });
  });

  it('rejects more samples than maxSamples, naming the limit', () => {
    expect(parsePrometheusText(lines('a 1', 'a 2'), { maxSamples: 2 })[0]?.samples).toHaveLength(2);
    expectError(lines('a 1', 'a 2', 'a 3'), 3, 'more than 2 samples (limit maxSamples)', { maxSamples: 2 });
  });

  it('rejects default-limit overflows too', () => {
    const text = 'a 1\n'.repeat(DEFAULT_PARSE_LIMITS.maxSamples + 1);
    expectError(text, DEFAULT_PARSE_LIMITS.maxSamples + 1, 'more than 200000 samples (limit maxSamples)');
  });

  it('rejects a label value longer than maxLabelValueLength, counting unescaped characters', () => {
    const limits = { maxLabelValueLength: 4 };
    expect(parsePrometheusText(lines('a{x="abcd",y="\\\\\\\\\\\\\\\\"} 1'), limits)).toHaveLength(1);
    expectError(
      lines('a 1', 'a{x="abcde"} 1'),
      2,
      'longer than 4 characters (limit maxLabelValueLength)',
      limits,
    );
    expectError(lines('a{x="ab\\ncd"} 1'), 1, 'label value for "x" longer than 4', limits);
  });

  it('rejects more labels than maxLabelsPerSample', () => {
    const limits = { maxLabelsPerSample: 2 };
    expect(parsePrometheusText(lines('a{x="1",y="2"} 1'), limits)).toHaveLength(1);
    expectError(
      lines('a{x="1",y="2",z="3"} 1'),
      1,
      'more than 2 labels on one sample (limit maxLabelsPerSample)',
      limits,
    );
  });

  it('falls back to the default for a limit passed as undefined', () => {
    expect(parsePrometheusText(lines('a 1'), { maxSamples: undefined as unknown as number })).toHaveLength(1);
  });
});

describe('parsePrometheusText: mutated input', () => {
  it('either parses or throws PrometheusParseError naming a line of the text, never anything else', () => {
    const base = lines(
      '# HELP vllm:e2e_request_latency_seconds Histogram of e2e request latency in seconds.',
      '# TYPE vllm:e2e_request_latency_seconds histogram',
      'vllm:e2e_request_latency_seconds_bucket{engine="0",le="0.3",model_name="Qwen/Qwen2.5-0.5B"} 0.0',
      'vllm:e2e_request_latency_seconds_bucket{engine="0",le="+Inf",model_name="Qwen/Qwen2.5-0.5B"} 3.0',
      'vllm:e2e_request_latency_seconds_sum{engine="0",model_name="Qwen/Qwen2.5-0.5B"} 1.25',
      'vllm:e2e_request_latency_seconds_count{engine="0",model_name="Qwen/Qwen2.5-0.5B"} 3.0',
      '# TYPE rpc summary',
      'rpc{quantile="0.5",path="C:\\\\x\\n"} 1e-3 1700000000000',
      'rpc_sum 2',
      'rpc_count 3',
      'DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-20c56d28"} 0 # {trace_id="abc"} 1.0',
    );
    const inserts = [
      '"',
      '\\',
      '{',
      '}',
      ',',
      '=',
      ' ',
      '\t',
      '\n',
      '\r',
      '#',
      'a',
      '1',
      '.',
      'e',
      '-',
      'Inf',
      'é',
    ];
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    let parsed = 0;
    for (let round = 0; round < 3000; round++) {
      let text = base;
      for (let edit = 0; edit < 1 + Math.floor(random() * 3); edit++) {
        const at = Math.floor(random() * text.length);
        text =
          random() < 0.5
            ? text.slice(0, at) + inserts[Math.floor(random() * inserts.length)] + text.slice(at)
            : text.slice(0, at) + text.slice(at + 1);
      }
      try {
        parsePrometheusText(text);
        parsed++;
      } catch (error) {
        expect(error).toBeInstanceOf(PrometheusParseError);
        const line = (error as PrometheusParseError).line;
        expect(line).toBeGreaterThanOrEqual(1);
        expect(line).toBeLessThanOrEqual(text.split('\n').length);
      }
    }
    // Some mutations are harmless (an extra blank, a changed digit): both outcomes are exercised.
    expect(parsed).toBeGreaterThan(0);
    expect(parsed).toBeLessThan(3000);
  });
});
