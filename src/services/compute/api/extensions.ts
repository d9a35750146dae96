// GET /extensions and /extensions/{alias} (nova/api/openstack/compute/extension_info.py): Nova's frozen
// catalogue of v2.1 extensions; an unknown alias is a 404.
import { ApiError } from '../../../platform/errors.ts';
import type { Route } from '../../../platform/http/types.ts';
import { EXTENSION_NAMESPACE, EXTENSION_UPDATED, EXTENSIONS } from './extension-list.ts';
import { V } from './flavors.ts';

const RULE = 'os_compute_api:extensions';

function view([alias, name, description]: (typeof EXTENSIONS)[number]): Record<string, unknown> {
  return { alias, description, links: [], name, namespace: EXTENSION_NAMESPACE, updated: EXTENSION_UPDATED };
}

export function extensionRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: `${V}/extensions`,
      handler(ctx) {
        ctx.authorize(RULE, {});
        return { body: { extensions: EXTENSIONS.map(view) } };
      },
    },
    {
      method: 'GET',
      path: `${V}/extensions/:alias`,
      handler(ctx) {
        ctx.authorize(RULE, {});
        const ext = EXTENSIONS.find(([alias]) => alias === ctx.params['alias']);
        if (!ext) throw new ApiError(404, 'NotFound', 'The resource could not be found.');
        return { body: { extension: view(ext) } };
      },
    },
  ];
}
