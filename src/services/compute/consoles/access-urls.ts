// Where the consoles live on the one listener, and the access URLs Nova hands out for them.

/** Everything console-related is served under this path of the public URL. */
export const CONSOLE_PATH = '/compute/console';
/** The noVNC page (Nova's novncproxy_base_url names vnc_lite.html; vnc_auto.html is the older name). */
export const VNC_PAGE = 'vnc_lite.html';
export const VNC_PAGE_ALIASES: readonly string[] = ['vnc_lite.html', 'vnc_auto.html'];
/** The websocket noVNC connects to (websockify's conventional name). */
export const VNC_WEBSOCKET = `${CONSOLE_PATH}/websockify`;
/** The serial console's websocket. */
export const SERIAL_WEBSOCKET = `${CONSOLE_PATH}/serial`;

export type ApiConsoleType = 'novnc' | 'serial';

/** http://host[/prefix] as ws://host[/prefix] (https as wss). */
export function websocketUrl(httpUrl: string): string {
  return httpUrl.replace(/^http(s?):/i, (_m, s: string) => `ws${s}:`);
}

/**
 * The base an access URL is built on, from the public base URL the client used: Nova's novncproxy_base_url
 * (`<base>/compute/console/vnc_lite.html`) or serial_console.base_url (`ws://<host>/compute/console/serial`).
 */
export function accessUrlBase(type: ApiConsoleType, baseUrl: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  return type === 'novnc' ? `${base}${CONSOLE_PATH}/${VNC_PAGE}` : `${websocketUrl(base)}${SERIAL_WEBSOCKET}`;
}

/**
 * Nova's ConsoleAuthToken.access_url. noVNC (1.1+) reads the websocket path from the page's `path` parameter,
 * relative to the host's root, so the token travels inside it: `<page>?path=<prefix>compute%2Fconsole%2F
 * websockify%3Ftoken%3D<token>`; other consoles take `<base>?token=<token>`.
 */
export function accessUrl(type: string, base: string, token: string): string {
  if (type !== 'novnc') return `${base}?token=${token}`;
  const page = new URL(base);
  const dir = page.pathname.slice(0, page.pathname.lastIndexOf('/'));
  const path = `${dir.replace(/^\/+/, '')}/websockify?token=${token}`;
  return `${base}?${new URLSearchParams({ path }).toString()}`;
}
