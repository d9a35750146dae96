// A server's hostname from its display name, as Nova's sanitize_hostname does.

/** Lowercase, spaces and underscores to '-', only [a-z0-9.-], trimmed of '.-', at most 63 characters. */
export function hostnameFrom(name: string, id: string): string {
  let h = name
    .toLowerCase()
    .replace(/[ _]/g, '-')
    .replace(/[^a-z0-9.-]/g, '')
    .replace(/^[.-]+|[.-]+$/g, '');
  h = h.slice(0, 63).replace(/[.-]+$/g, '');
  return h === '' ? `server-${id}` : h;
}
