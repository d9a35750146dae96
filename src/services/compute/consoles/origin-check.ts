// Nova's console proxy origin check: a browser's Origin must name this host (or an allowed one) and the
// scheme the console URL was issued with; clients that send no Origin are not browsers and pass.
import type { IncomingHttpHeaders } from 'node:http';

function first(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  return s?.split(',')[0]?.trim() || undefined;
}

/** The hostname of a Host-style "name[:port]" or "[v6]:port", lower-cased and without brackets. */
export function hostnameOf(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.indexOf(':');
  return colon >= 0 ? h.slice(0, colon) : h;
}

/**
 * Undefined when the request may open the console, else the refusal's reason (Nova's texts). `accessUrlBase`
 * is the base the token's URL was built on; `allowedOrigins` are hostnames accepted besides the Host header.
 */
export function originRefusal(
  headers: IncomingHttpHeaders,
  accessUrlBase: string,
  allowedOrigins: readonly string[],
): string | undefined {
  const origin = first(headers.origin);
  if (origin === undefined) return undefined;
  const expected = new Set(allowedOrigins.map((h) => hostnameOf(h)));
  for (const h of [first(headers.host), first(headers['x-forwarded-host'])])
    if (h) expected.add(hostnameOf(h));
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return 'Origin header not valid.';
  }
  const hostname = hostnameOf(url.host);
  const scheme = (first(headers['x-forwarded-proto']) ?? url.protocol.replace(/:$/, '')).toLowerCase();
  if (hostname === '' || scheme === '') return 'Origin header not valid.';
  if (!expected.has(hostname)) return 'Origin header does not match this host.';
  const issued = new URL(accessUrlBase).protocol.replace(/:$/, '').toLowerCase();
  const protos = [issued];
  if (issued === 'ws') protos.push('http');
  if (issued === 'wss') protos.push('https');
  if (!protos.includes(scheme)) return 'Origin header protocol does not match this host.';
  return undefined;
}
