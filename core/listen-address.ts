// A listen address as configuration writes it, for the collector's and the agent's HTTP servers alike.

/** `host:port`, `[v6]:port` or `:port` (all interfaces). */
export function parseListenAddress(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(':');
  const host = listen.slice(0, at).replace(/^\[|\]$/g, '') || '0.0.0.0';
  return { host, port: Number(listen.slice(at + 1)) };
}
