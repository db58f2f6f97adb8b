import { describe, expect, it } from 'vitest';
import { parseListenAddress } from './listen-address.ts';

describe('parseListenAddress', () => {
  it('reads host:port, [v6]:port and :port', () => {
    expect(parseListenAddress('127.0.0.1:9495')).toEqual({ host: '127.0.0.1', port: 9495 });
    expect(parseListenAddress('[::1]:9495')).toEqual({ host: '::1', port: 9495 });
    expect(parseListenAddress(':9495')).toEqual({ host: '0.0.0.0', port: 9495 });
  });
});
