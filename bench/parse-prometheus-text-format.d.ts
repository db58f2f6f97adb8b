// Types for parse-prometheus-text-format 1.1.1 (a devDependency the parser benchmark compares against); the
// package ships none. Only the shape the benchmark touches is declared.
declare module 'parse-prometheus-text-format' {
  interface ParsedFamily {
    name: string;
    help: string;
    type: string;
    metrics: unknown[];
  }
  export default function parsePrometheusTextFormat(text: string): ParsedFamily[];
}
