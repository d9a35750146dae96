// The error answers of Nova's metadata API as WebOb renders them: an HTML page, a small JSON object, or plain
// text, chosen by the request's Accept header (no Accept: plain text; "*/*", as curl sends: HTML).
import { pyJson } from './py-json.ts';

const STATUS: Record<number, { title: string; explanation: string }> = {
  400: {
    title: 'Bad Request',
    explanation:
      'The server could not comply with the request since it is either malformed or otherwise incorrect.',
  },
  403: { title: 'Forbidden', explanation: 'Access was denied to this resource.' },
  404: { title: 'Not Found', explanation: 'The resource could not be found.' },
  409: { title: 'Conflict', explanation: 'There was a conflict when trying to complete your request.' },
  413: {
    title: 'Request Entity Too Large',
    explanation: 'The body of your request was too large for this server.',
  },
  500: {
    title: 'Internal Server Error',
    explanation: 'The server has either erred or is incapable of performing the requested operation.',
  },
};

export interface PlainResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Uint8Array;
}

interface Range {
  type: string;
  subtype: string;
  q: number;
}

function parseAccept(accept: string): Range[] {
  const out: Range[] = [];
  for (const part of accept.split(',')) {
    const [range, ...params] = part.split(';').map((s) => s.trim());
    if (!range) continue;
    const [type, subtype] = range.toLowerCase().split('/');
    if (!type || !subtype) continue;
    let q = 1;
    for (const p of params) {
      const m = /^q=([0-9.]+)$/i.exec(p);
      if (m) q = Number(m[1]);
    }
    out.push({ type, subtype, q: Number.isFinite(q) ? q : 0 });
  }
  return out;
}

/** The quality the Accept ranges give an offer: that of the most specific range matching it (0 when none). */
function quality(ranges: Range[], offer: string): number {
  const [type, subtype] = offer.split('/');
  let best = -1;
  let q = 0;
  for (const r of ranges) {
    let spec = -1;
    if (r.type === type && r.subtype === subtype) spec = 3;
    else if (r.type === type && r.subtype === '*') spec = 2;
    else if (r.type === '*' && r.subtype === '*') spec = 1;
    if (spec > best) {
      best = spec;
      q = r.q;
    }
  }
  return q;
}

/** WebOb's choice between its HTML, JSON and plain-text error bodies. */
export function errorFlavour(accept: string | undefined): 'html' | 'json' | 'plain' {
  const ranges = parseAccept(accept ?? '');
  const h = quality(ranges, 'text/html');
  const j = quality(ranges, 'application/json');
  if (h <= 0 && j <= 0) return 'plain';
  return h >= j ? 'html' : 'json';
}

function escapeHtml(s: string): string {
  return s
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#x27;');
}

/** An error answer as webob.exc.HTTP<status>(explanation=…) renders it for this Accept header. */
export function webobError(status: number, accept: string | undefined, explanation?: string): PlainResponse {
  const s = STATUS[status] ?? { title: 'Error', explanation: '' };
  const statusLine = `${status} ${s.title}`;
  const text = explanation ?? s.explanation;
  const flavour = errorFlavour(accept);
  if (flavour === 'html') {
    const body =
      `<html>\n <head>\n  <title>${statusLine}</title>\n </head>\n <body>\n  <h1>${statusLine}</h1>\n` +
      `  ${escapeHtml(text)}<br /><br />\n\n\n\n </body>\n</html>`;
    return { status, headers: { 'content-type': 'text/html; charset=UTF-8' }, body };
  }
  if (flavour === 'json') {
    const body = pyJson({ message: `${text}<br /><br />\n\n\n`, code: statusLine, title: s.title });
    return { status, headers: { 'content-type': 'application/json' }, body };
  }
  return {
    status,
    headers: { 'content-type': 'text/plain; charset=UTF-8' },
    body: `${statusLine}\n\n${text}\n\n   `,
  };
}
