// Shared helpers of the compute API tests: requests at a microversion, Nova's fault bodies, and users.
import assert from 'node:assert/strict';
import type { TestCloud, TestResponse } from '../../support/cloud.ts';

export const V = '/compute/v2.1';

export interface NovaRequest {
  token: string;
  body?: unknown;
  /** The microversion asked for (default: none, i.e. 2.1). */
  mv?: string;
}

export function nova(tc: TestCloud, method: string, path: string, o: NovaRequest): Promise<TestResponse> {
  const headers: Record<string, string> = {};
  if (o.mv) headers['openstack-api-version'] = `compute ${o.mv}`;
  return tc.request(method, `${V}${path}`, { token: o.token, body: o.body, headers });
}

const FAULTS: Record<number, string> = {
  400: 'badRequest',
  403: 'forbidden',
  404: 'itemNotFound',
  409: 'conflictingRequest',
};

/** Asserts Nova's fault body: {"<fault>": {"code": status, "message": …}}. */
export function expectFault(res: TestResponse, status: number, message?: string | RegExp): void {
  assert.equal(res.status, status, res.text);
  const name = FAULTS[status];
  assert.ok(name && res.body?.[name], `expected a ${name} fault: ${res.text}`);
  assert.equal(res.body[name].code, status);
  if (typeof message === 'string') assert.equal(res.body[name].message, message);
  else if (message) assert.match(res.body[name].message, message);
}

/** Asserts that an object has exactly these keys. */
export function expectKeys(obj: Record<string, unknown>, keys: string[]): void {
  assert.deepEqual(Object.keys(obj).sort(), [...keys].sort());
}

let serverSeq = 0;

/** Writes a server row directly (usage, quota and migration tests need servers in given states). */
export async function insertServer(
  tc: TestCloud,
  o: {
    projectId: string;
    userId?: string;
    host?: string | null;
    flavor?: {
      id?: string;
      name?: string;
      vcpus: number;
      memory_mb: number;
      root_gb: number;
      ephemeral_gb?: number;
    };
    launchedAt?: string | null;
    terminatedAt?: string | null;
    deleted?: boolean;
    vmState?: string;
  },
): Promise<string> {
  serverSeq += 1;
  const id = crypto.randomUUID();
  const f = { id: '1', name: 'm1.tiny', ephemeral_gb: 0, swap: 0, extra_specs: {}, ...o.flavor };
  const now = new Date().toISOString();
  await tc.cloud.compute.context.write(async (trx) => {
    await trx
      .insertInto('compute_servers')
      .values({
        id,
        project_id: o.projectId,
        user_id: o.userId ?? 'someone',
        name: `srv-${serverSeq}`,
        hostname: `srv-${serverSeq}`,
        description: null,
        reservation_id: `r-${serverSeq}`,
        launch_index: 0,
        flavor_id: f.id,
        flavor: JSON.stringify(f),
        old_flavor: null,
        new_flavor: null,
        image_id: '',
        key_name: null,
        key_data: null,
        user_data: null,
        config_drive: '',
        access_ip_v4: '',
        access_ip_v6: '',
        availability_zone: null,
        host: o.host === undefined ? null : o.host,
        node: o.host ?? null,
        vm_state: o.vmState ?? (o.deleted ? 'deleted' : 'active'),
        task_state: null,
        power_state: 1,
        task_seq: 0,
        task_args: '{}',
        locked: 0,
        locked_by: null,
        locked_reason: null,
        progress: 0,
        launched_at: o.launchedAt === undefined ? now : o.launchedAt,
        terminated_at: o.terminatedAt ?? null,
        request_spec: '{}',
        fault: null,
        security_groups: '[]',
        addresses: '{}',
        system_metadata: '{}',
        trusted_certs: null,
        created_at: now,
        updated_at: now,
        deleted: o.deleted ? 1 : 0,
        deleted_at: o.deleted ? now : null,
      })
      .execute();
  });
  return id;
}

/** A small public qcow2-labelled image, uploaded and active (the fake driver boots anything). */
export async function uploadTestImage(tc: TestCloud, body: Record<string, unknown> = {}): Promise<string> {
  const img = await tc.request('POST', '/image/v2/images', {
    token: tc.adminToken,
    body: { name: 'cirros', disk_format: 'qcow2', container_format: 'bare', visibility: 'public', ...body },
  });
  assert.equal(img.status, 201, img.text);
  const put = await tc.request('PUT', `/image/v2/images/${img.body.id}/file`, {
    token: tc.adminToken,
    raw: 'QFI\xfbfake-image-bytes',
    headers: { 'content-type': 'application/octet-stream' },
  });
  assert.equal(put.status, 204, put.text);
  return img.body.id;
}

/** Polls a server (settling the cloud between polls) until it has `status`; DELETED also means 404. */
export async function waitForStatus(
  tc: TestCloud,
  id: string,
  token: string,
  status: string,
): Promise<Record<string, unknown>> {
  let last: Record<string, unknown> = {};
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    await tc.cloud.settle();
    const r = await tc.request('GET', `${V}/servers/${id}`, {
      token,
      headers: { 'openstack-api-version': 'compute 2.93' },
    });
    if (r.status === 404 && status === 'DELETED') return {};
    last = r.body.server;
    if (last['status'] === status) return last;
    await new Promise((res) => setTimeout(res, 10));
  }
  throw new Error(
    `server ${id} stayed ${last['status']} (wanted ${status}): ${JSON.stringify(last['fault'])}`,
  );
}
