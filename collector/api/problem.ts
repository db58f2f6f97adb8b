// RFC 9457 problem details: every API error is an HttpProblem and is answered as application/problem+json.

export class HttpProblem extends Error {
  readonly status: number;
  readonly title: string;
  readonly type: string;
  readonly headers: Record<string, string>;
  constructor(
    status: number,
    title: string,
    detail: string,
    options: { type?: string; headers?: Record<string, string> } = {},
  ) {
    super(detail);
    this.status = status;
    this.title = title;
    this.type = options.type ?? 'about:blank';
    this.headers = options.headers ?? {};
    this.name = 'HttpProblem';
  }

  toJSON(instance?: string) {
    return {
      type: this.type,
      title: this.title,
      status: this.status,
      detail: this.message,
      ...(instance ? { instance } : {}),
    };
  }
}

export function problemResponse(problem: HttpProblem, instance?: string): Response {
  return new Response(JSON.stringify(problem.toJSON(instance)), {
    status: problem.status,
    headers: { 'content-type': 'application/problem+json', ...problem.headers },
  });
}
