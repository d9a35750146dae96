// GET /servers/{id}/ips and /ips/{network_label}: the server's addresses by network, from its info cache.
import { ApiError } from '../../../platform/errors.ts';
import type { Route } from '../../../platform/http/types.ts';
import type { ComputeContext } from '../context.ts';
import { parseJson } from './common.ts';
import { visibleServer } from './servers.ts';

type Addresses = Record<string, { version: number; addr: string }[]>;

/** The cached addresses without the OS-EXT-IPS extensions (the ips API shows version and addr only). */
function plain(text: string): Addresses {
  const out: Addresses = {};
  for (const [label, list] of Object.entries(parseJson<Addresses>(text, {})))
    out[label] = list.map((a) => ({ version: a.version, addr: a.addr }));
  return out;
}

export function serverIpRoutes(cx: ComputeContext): Route[] {
  const S = '/compute/v2.1/servers/:server_id/ips';
  return [
    {
      method: 'GET',
      path: S,
      async handler(ctx) {
        const s = await visibleServer(cx, ctx, ctx.params['server_id']!, 'os_compute_api:ips:index');
        return { body: { addresses: plain(s.addresses) } };
      },
    },
    {
      method: 'GET',
      path: `${S}/:label`,
      async handler(ctx) {
        const s = await visibleServer(cx, ctx, ctx.params['server_id']!, 'os_compute_api:ips:show');
        const all = plain(s.addresses);
        const label = ctx.params['label']!;
        if (!(label in all))
          throw new ApiError(404, 'NotFound', 'Instance is not a member of specified network');
        return { body: { [label]: all[label] } };
      },
    },
  ];
}
