// HTTP routes of the consoles: the noVNC page and noVNC's modules, and GET /os-console-auth-tokens/{token}.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { ApiError } from '../../../platform/errors.ts';
import type { Route, RouteResult } from '../../../platform/http/types.ts';
import { CONSOLE_PATH, VNC_PAGE_ALIASES } from './access-urls.ts';
import { novncAsset } from './novnc-assets.ts';
import type { ConsoleTokenStore } from './token-store.ts';
import { VNC_PAGE_HTML } from './vnc-page.ts';

const notFound = () => new ApiError(404, 'NotFound', 'The resource could not be found.');

/** The page and noVNC's files, for anyone: the token in the page's `path` is what opens a console. */
export function consolePageRoutes(): Route[] {
  const page = Buffer.from(VNC_PAGE_HTML, 'utf8');
  return [
    {
      method: 'GET',
      path: `${CONSOLE_PATH}/*`,
      auth: 'none',
      async handler(ctx): Promise<RouteResult> {
        const rel = ctx.params['*'] ?? '';
        if (VNC_PAGE_ALIASES.includes(rel)) {
          return {
            stream: Readable.from([page]),
            headers: {
              'content-type': 'text/html; charset=utf-8',
              'content-length': String(page.length),
              'cache-control': 'no-cache',
              // The page's URL carries the console token: keep it out of Referer headers.
              'referrer-policy': 'no-referrer',
              'x-content-type-options': 'nosniff',
            },
          };
        }
        const asset = await novncAsset(rel);
        if (!asset) throw notFound();
        return {
          stream: createReadStream(asset.file),
          headers: {
            'content-type': asset.contentType,
            'content-length': String(asset.size),
            'cache-control': 'public, max-age=3600',
            'x-content-type-options': 'nosniff',
          },
        };
      },
    },
  ];
}

/** GET /os-console-auth-tokens/{console_token} (admin): what a valid token opens, as Nova shows it. */
export function consoleAuthTokenRoutes(tokens: ConsoleTokenStore): Route[] {
  return [
    {
      method: 'GET',
      path: '/compute/v2.1/os-console-auth-tokens/:console_token',
      async handler(ctx) {
        const auth = ctx.requireAuth();
        ctx.authorize('os_compute_api:os-console-auth-tokens', {
          project_id: auth.projectId ?? null,
          user_id: auth.userId,
        });
        const token = ctx.params['console_token'] ?? '';
        if (!token) throw new ApiError(400, 'BadRequest', 'token not provided');
        const row = await tokens.validate(token);
        if (!row) throw new ApiError(404, 'NotFound', 'Token not found');
        // Before 2.31 the API only showed RDP tokens, which are never issued here.
        if (!ctx.mv!.atLeast('2.31') && row.console_type !== 'rdp-html5')
          throw new ApiError(401, 'Unauthorized', 'The requested console type details are not accessible');
        // The console is a unix socket on the host, which has no port; Nova's internal_access_path is unused.
        return {
          body: {
            console: {
              instance_uuid: row.instance_uuid,
              host: row.host,
              port: null,
              internal_access_path: null,
            },
          },
        };
      },
    },
  ];
}
