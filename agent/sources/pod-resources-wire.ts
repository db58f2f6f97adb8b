// The kubelet's pod-resources `List` call without a gRPC library: one unary call over HTTP/2 on the unix socket
// (node:http2), and a decoder for the few protobuf fields the agent reads (pod, container, device names and ids).
// grpc-js with proto-loader (protobufjs) cost the agent several MiB of resident memory for this one call; the
// wire format below is gRPC's (length-prefixed messages, status in the trailers) and proto3's, nothing more.
import http2 from 'node:http2';
import { connect } from 'node:net';
import type { ListPodResourcesResponse } from './pod-resources.ts';

/** gRPC status codes, by number (google.rpc.Code). */
export const GRPC_STATUS = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

export const GRPC_DEADLINE_EXCEEDED = 4;
export const GRPC_PERMISSION_DENIED = 7;
export const GRPC_RESOURCE_EXHAUSTED = 8;
export const GRPC_INTERNAL = 13;
export const GRPC_UNAVAILABLE = 14;

/** A failed call: the gRPC status code and its details, as grpc-js reports them. */
export class GrpcCallError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
    options?: { cause?: unknown },
  ) {
    super(`${GRPC_STATUS[code] ?? code}: ${details}`, options);
    this.name = 'GrpcCallError';
  }
}

// ---- protobuf (proto3) decoding of ListPodResourcesResponse ----

class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const byte = this.buf[this.pos++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
    throw new Error('varint longer than 10 bytes');
  }

  /** The [start, end) of a length-delimited field's bytes, and moves past them. */
  bytes(): [number, number] {
    const length = this.varint();
    const start = this.pos;
    if (length > this.end - start) throw new Error('length-delimited field runs past its message');
    this.pos = start + length;
    return [start, this.pos];
  }

  string(): string {
    const [start, end] = this.bytes();
    return this.buf.toString('utf8', start, end);
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.bytes();
        return;
      case 5:
        this.pos += 4;
        break;
      default:
        throw new Error(`unsupported protobuf wire type ${wireType}`);
    }
    if (this.pos > this.end) throw new Error('fixed-width field runs past its message');
  }

  /** Calls `field` for every (field number, wire type) of the message; `field` reads or skips the value. */
  fields(field: (number: number, wireType: number) => void): void {
    while (this.pos < this.end) {
      const tag = this.varint();
      field(Math.floor(tag / 8), tag & 7);
    }
  }

  sub(): Reader {
    const [start, end] = this.bytes();
    return new Reader(this.buf, start, end);
  }
}

type Pod = ListPodResourcesResponse['podResources'][number];
type Container = Pod['containers'][number];
type Device = Container['devices'][number];

function readDevice(reader: Reader): Device {
  const device: Device = { resourceName: '', deviceIds: [] };
  reader.fields((number, wireType) => {
    if (number === 1 && wireType === 2) device.resourceName = reader.string();
    else if (number === 2 && wireType === 2) device.deviceIds.push(reader.string());
    else reader.skip(wireType);
  });
  return device;
}

function readContainer(reader: Reader): Container {
  const container: Container = { name: '', devices: [] };
  reader.fields((number, wireType) => {
    if (number === 1 && wireType === 2) container.name = reader.string();
    else if (number === 2 && wireType === 2) container.devices.push(readDevice(reader.sub()));
    else reader.skip(wireType);
  });
  return container;
}

function readPod(reader: Reader): Pod {
  const pod: Pod = { name: '', namespace: '', containers: [] };
  reader.fields((number, wireType) => {
    if (number === 1 && wireType === 2) pod.name = reader.string();
    else if (number === 2 && wireType === 2) pod.namespace = reader.string();
    else if (number === 3 && wireType === 2) pod.containers.push(readContainer(reader.sub()));
    else reader.skip(wireType);
  });
  return pod;
}

/** Decodes a `v1.ListPodResourcesResponse` message (the fields the agent uses; the others are skipped). */
export function decodeListPodResourcesResponse(
  buf: Buffer,
  start = 0,
  end = buf.length,
): ListPodResourcesResponse {
  const response: ListPodResourcesResponse = { podResources: [] };
  const reader = new Reader(buf, start, end);
  reader.fields((number, wireType) => {
    if (number === 1 && wireType === 2) response.podResources.push(readPod(reader.sub()));
    else reader.skip(wireType);
  });
  return response;
}

// ---- gRPC over HTTP/2 on a unix socket ----

/** An empty request message (ListPodResourcesRequest has no fields), framed: not compressed, length 0. */
const EMPTY_REQUEST = Buffer.alloc(5);

export interface UnaryCallOptions {
  /** The method's path, `/package.Service/Method`. */
  path: string;
  timeoutMs: number;
  /** Largest response message accepted. */
  maxMessageBytes: number;
  signal?: AbortSignal;
}

/**
 * One gRPC connection (an HTTP/2 session) to a unix socket, opened on first use and again after it drops (the
 * kubelet restarting re-creates its socket). Calls are unary with an empty request.
 */
export class UnixGrpcChannel {
  private session?: http2.ClientHttp2Session;

  constructor(private readonly socketPath: string) {}

  private connect(): http2.ClientHttp2Session {
    const current = this.session;
    if (current && !current.closed && !current.destroyed) return current;
    const session = http2.connect('http://localhost', {
      createConnection: () => connect(this.socketPath),
    });
    // Errors reach the calls through their streams (or the session's close); this keeps them from throwing.
    session.on('error', () => {});
    session.on('close', () => {
      if (this.session === session) this.session = undefined;
    });
    // An idle connection does not keep the process alive; a call in flight holds its deadline timer.
    session.unref();
    this.session = session;
    return session;
  }

  /** Calls `path` with an empty request; resolves with the response message's bytes. */
  call(options: UnaryCallOptions): Promise<Buffer> {
    const { signal, timeoutMs, maxMessageBytes } = options;
    return new Promise<Buffer>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      let settled = false;
      let stream: http2.ClientHttp2Stream | undefined;
      const session = this.connect();
      const finish = (error: unknown, message?: Buffer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        session.off('close', onSessionClose);
        session.off('error', onSessionError);
        if (stream && !stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
        if (error) reject(error);
        else resolve(message!);
      };
      const timer = setTimeout(() => {
        finish(new GrpcCallError(GRPC_DEADLINE_EXCEEDED, 'Deadline exceeded'));
        // A connection that did not answer in time is not worth keeping: the next call connects afresh.
        session.destroy();
      }, timeoutMs);
      const onAbort = () => finish(signal!.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      let sessionError: Error | undefined;
      const onSessionError = (error: Error) => {
        sessionError = error;
      };
      const onSessionClose = () =>
        finish(
          sessionError
            ? connectionError(sessionError)
            : new GrpcCallError(GRPC_UNAVAILABLE, 'the connection closed before an answer'),
        );
      session.on('error', onSessionError);
      session.on('close', onSessionClose);

      try {
        stream = session.request({
          ':method': 'POST',
          ':path': options.path,
          'content-type': 'application/grpc',
          te: 'trailers',
          'grpc-timeout': `${Math.max(1, Math.ceil(timeoutMs))}m`,
        });
      } catch (error) {
        finish(connectionError(error as Error));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      let status: number | undefined;
      let details = '';
      let httpStatus = 0;
      const readStatus = (headers: http2.IncomingHttpHeaders) => {
        const code = headers['grpc-status'];
        if (code === undefined) return;
        status = Number(code);
        details = decodeDetails(headers['grpc-message']);
      };
      stream.on('response', (headers) => {
        httpStatus = Number(headers[':status']);
        readStatus(headers); // a trailers-only answer carries the status in its headers
      });
      stream.on('trailers', readStatus);
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxMessageBytes + 5) {
          finish(
            new GrpcCallError(
              GRPC_RESOURCE_EXHAUSTED,
              `Received message larger than max (${size} vs. ${maxMessageBytes})`,
            ),
          );
          return;
        }
        chunks.push(chunk);
      });
      stream.on('error', (error) => finish(connectionError(sessionError ?? error)));
      stream.on('close', () => {
        if (settled) return;
        if (status === undefined) {
          const why =
            httpStatus && httpStatus !== 200
              ? `HTTP status ${httpStatus} instead of a gRPC answer`
              : 'the call ended without a gRPC status';
          finish(
            new GrpcCallError(httpStatus ? GRPC_INTERNAL : GRPC_UNAVAILABLE, sessionError?.message ?? why),
          );
          return;
        }
        if (status !== 0) {
          finish(new GrpcCallError(status, details));
          return;
        }
        const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
        if (body.length < 5) {
          finish(new GrpcCallError(GRPC_INTERNAL, 'the answer holds no message'));
          return;
        }
        if (body[0] !== 0) {
          finish(new GrpcCallError(GRPC_INTERNAL, 'the answer is compressed, which was not asked for'));
          return;
        }
        const length = body.readUInt32BE(1);
        if (length > body.length - 5) {
          finish(new GrpcCallError(GRPC_INTERNAL, 'the answer is shorter than its message length'));
          return;
        }
        finish(undefined, body.subarray(5, 5 + length));
      });
      stream.end(EMPTY_REQUEST);
    });
  }

  close(): void {
    this.session?.close();
    this.session = undefined;
  }
}

/** grpc-message is percent-encoded. */
function decodeDetails(value: string | string[] | undefined): string {
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A connection that failed: UNAVAILABLE, or PERMISSION_DENIED when the socket refused us (EACCES). */
function connectionError(error: Error): GrpcCallError {
  const code = (error as NodeJS.ErrnoException).code;
  const details = code && !error.message.includes(code) ? `${code} ${error.message}` : error.message;
  return new GrpcCallError(code === 'EACCES' ? GRPC_PERMISSION_DENIED : GRPC_UNAVAILABLE, details, {
    cause: error,
  });
}
