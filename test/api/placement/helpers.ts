// Shared helpers of the placement API tests: requests at a microversion, and provider/inventory setup.
import { randomUUID } from 'node:crypto';
import type { TestCloud, TestResponse } from '../../support/cloud.ts';

export const LATEST = '1.39';

export type Pl = (
  method: string,
  path: string,
  opts?: { body?: unknown; mv?: string; token?: string; raw?: string; headers?: Record<string, string> },
) => Promise<TestResponse>;

/** A request function against /placement with a default microversion. */
export function placement(tc: TestCloud, defaultMv = LATEST): Pl {
  return (method, path, opts = {}) =>
    tc.request(method, `/placement${path}`, {
      token: opts.token ?? tc.adminToken,
      body: opts.body,
      ...(opts.raw !== undefined ? { raw: opts.raw } : {}),
      headers: { 'openstack-api-version': `placement ${opts.mv ?? defaultMv}`, ...opts.headers },
    });
}

/** Creates a provider (optionally with inventory) and returns its uuid. */
export async function makeProvider(
  pl: Pl,
  opts: {
    name?: string;
    parent?: string;
    inventory?: Record<string, Record<string, number>>;
    uuid?: string;
  } = {},
): Promise<string> {
  const uuid = opts.uuid ?? randomUUID();
  const body: Record<string, unknown> = { uuid, name: opts.name ?? `rp-${uuid}` };
  if (opts.parent) body['parent_provider_uuid'] = opts.parent;
  const res = await pl('POST', '/resource_providers', { body });
  if (res.status !== 200) throw new Error(`create provider: ${res.status} ${res.text}`);
  if (opts.inventory) await setInventory(pl, uuid, opts.inventory);
  return uuid;
}

export async function generationOf(pl: Pl, uuid: string): Promise<number> {
  const res = await pl('GET', `/resource_providers/${uuid}`);
  return res.body.generation as number;
}

export async function setInventory(
  pl: Pl,
  uuid: string,
  inventories: Record<string, Record<string, number>>,
) {
  const res = await pl('PUT', `/resource_providers/${uuid}/inventories`, {
    body: { resource_provider_generation: await generationOf(pl, uuid), inventories },
  });
  if (res.status !== 200) throw new Error(`set inventory: ${res.status} ${res.text}`);
  return res;
}

/** PUT /allocations/{consumer} at 1.28+ for a new consumer. */
export function claim(
  pl: Pl,
  consumer: string,
  allocations: Record<string, Record<string, number>>,
  opts: { generation?: number | null; project?: string; user?: string; mv?: string; type?: string } = {},
) {
  const mv = opts.mv ?? '1.36';
  const body: Record<string, unknown> = {
    allocations: Object.fromEntries(Object.entries(allocations).map(([rp, r]) => [rp, { resources: r }])),
    project_id: opts.project ?? 'p1',
    user_id: opts.user ?? 'u1',
    consumer_generation: opts.generation ?? null,
  };
  if (Number(mv.split('.')[1]) >= 38) body['consumer_type'] = opts.type ?? 'INSTANCE';
  return pl('PUT', `/allocations/${consumer}`, { body, mv });
}

export function errorCode(res: TestResponse): string | undefined {
  return res.body?.errors?.[0]?.code;
}

export function errorDetail(res: TestResponse): string {
  return String(res.body?.errors?.[0]?.detail ?? '');
}
