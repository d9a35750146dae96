// PlacementClient: the typed calls the compute service makes to Placement's public API over a Transport
// (providers, inventories, traits, aggregates, allocation candidates, claims and allocation moves); with
// Placement in the same process, the scheduler's hot calls may skip HTTP through a local path.
import { ApiError, isApiError } from '../platform/errors.ts';
import type { TokenSource, Transport, TransportResponse } from '../platform/transport.ts';

export interface InventoryInput {
  total: number;
  reserved?: number;
  min_unit?: number;
  max_unit?: number;
  step_size?: number;
  allocation_ratio?: number;
}

export interface ResourceProvider {
  uuid: string;
  name: string;
  generation: number;
  parent_provider_uuid: string | null;
  root_provider_uuid: string;
}

export interface AllocationRequest {
  allocations: Record<string, { resources: Record<string, number> }>;
  mappings?: Record<string, string[]>;
}

export interface ProviderSummary {
  resources: Record<string, { capacity: number; used: number }>;
  traits?: string[];
  parent_provider_uuid?: string | null;
  root_provider_uuid?: string;
}

export interface CandidateQuery {
  resources: Record<string, number>;
  required?: string[];
  forbidden?: string[];
  /** AND of ORs of aggregate uuids. */
  memberOf?: string[][];
  inTree?: string;
  limit?: number;
}

export interface ConsumerAllocations {
  allocations: Record<string, { generation?: number; resources: Record<string, number> }>;
  project_id?: string;
  user_id?: string;
  consumer_generation?: number;
  consumer_type?: string;
}

export interface ClaimInput {
  allocations: Record<string, { resources: Record<string, number> }>;
  projectId: string;
  userId: string;
  /** The consumer generation expected: null for a consumer without allocations. */
  consumerGeneration: number | null;
  /** Sent from microversion 1.38 (default INSTANCE). */
  consumerType?: string;
}

/**
 * Placement in this process (its service's `local`): the same routes as direct calls, the query string and
 * bodies as on the wire, errors as ApiErrors with the status, code and detail the HTTP body would carry.
 */
export interface PlacementLocalPath {
  /** GET /allocation_candidates: the response body. */
  allocationCandidates(
    query: Record<string, string | string[]>,
    microversion: string,
  ): Promise<{ allocation_requests: unknown[]; provider_summaries: Record<string, unknown> }>;
  /** PUT /allocations/{consumer}. */
  putAllocations(consumer: string, body: unknown, microversion: string): Promise<void>;
  /** DELETE /allocations/{consumer} (404 when it has none). */
  deleteAllocations(consumer: string, microversion: string): Promise<void>;
}

export interface PlacementClientOptions {
  microversion?: string;
  /** Placement's local path, or a getter of it (bound later); absent or undefined: every call is HTTP. */
  local?: PlacementLocalPath | (() => PlacementLocalPath | undefined);
}

const PREFIX = '/placement';
const RETRIES = 5;

export class PlacementClient {
  readonly #transport: Transport;
  readonly #token: TokenSource;
  readonly #mv: string;
  readonly #local: () => PlacementLocalPath | undefined;

  constructor(transport: Transport, token: TokenSource, opts: PlacementClientOptions = {}) {
    this.#transport = transport;
    this.#token = token;
    this.#mv = opts.microversion ?? '1.39';
    const local = opts.local;
    this.#local = typeof local === 'function' ? local : () => local;
  }

  get #withTypes(): boolean {
    const [maj, min] = this.#mv.split('.').map(Number);
    return maj! > 1 || min! >= 38;
  }

  async #call(
    method: 'GET' | 'PUT' | 'POST' | 'DELETE',
    path: string,
    body?: unknown,
  ): Promise<TransportResponse> {
    return this.#transport({
      method,
      path: `${PREFIX}${path}`,
      headers: {
        'x-auth-token': await this.#token(),
        'openstack-api-version': `placement ${this.#mv}`,
        accept: 'application/json',
      },
      body,
    });
  }

  /** Throws the ApiError Placement's body describes, unless the status is one of `ok`. */
  #check(res: TransportResponse, ...ok: number[]): TransportResponse {
    if (ok.includes(res.status)) return res;
    const err = res.body?.errors?.[0] as { detail?: string; code?: string } | undefined;
    throw new ApiError(
      res.status,
      err?.code ?? 'placement.undefined_code',
      err?.detail ?? (res.text || `HTTP ${res.status}`),
    );
  }

  static #isConcurrent(res: TransportResponse): boolean {
    return res.status === 409 && res.body?.errors?.[0]?.code === 'placement.concurrent_update';
  }

  async getProvider(uuid: string): Promise<ResourceProvider | undefined> {
    const res = await this.#call('GET', `/resource_providers/${uuid}`);
    if (res.status === 404) return undefined;
    return this.#check(res, 200).body as ResourceProvider;
  }

  /** Creates the provider unless it exists (idempotent; a racing creator's provider is returned). */
  async ensureProvider(p: { uuid: string; name: string; parentUuid?: string }): Promise<ResourceProvider> {
    const found = await this.getProvider(p.uuid);
    if (found) return found;
    const body: Record<string, unknown> = { uuid: p.uuid, name: p.name };
    if (p.parentUuid) body['parent_provider_uuid'] = p.parentUuid;
    const res = await this.#call('POST', '/resource_providers', body);
    if (res.status === 409) {
      const again = await this.getProvider(p.uuid);
      if (again) return again;
    }
    this.#check(res, 200, 201);
    return res.status === 200 ? (res.body as ResourceProvider) : (await this.getProvider(p.uuid))!;
  }

  /** Deletes the provider; absent is fine. */
  async deleteProvider(uuid: string): Promise<void> {
    this.#check(await this.#call('DELETE', `/resource_providers/${uuid}`), 204, 404);
  }

  /** Nova's delete_resource_provider(cascade=True): the provider's consumers' allocations go first. */
  async deleteResourceProvider(uuid: string, opts: { cascade?: boolean } = {}): Promise<void> {
    if (opts.cascade ?? true) {
      const res = await this.#call('GET', `/resource_providers/${uuid}/allocations`);
      if (res.status === 404) return;
      const allocations = this.#check(res, 200).body.allocations as Record<string, unknown>;
      for (const consumer of Object.keys(allocations)) await this.deleteAllocations(consumer);
    }
    await this.deleteProvider(uuid);
  }

  /** Replaces the provider's inventory, re-reading the generation on a concurrent update. */
  async setInventory(uuid: string, inventories: Record<string, InventoryInput>): Promise<number> {
    for (let i = 0; ; i++) {
      const rp = await this.getProvider(uuid);
      if (!rp)
        throw new ApiError(404, 'placement.undefined_code', `No resource provider with uuid ${uuid} found`);
      const res = await this.#call('PUT', `/resource_providers/${uuid}/inventories`, {
        resource_provider_generation: rp.generation,
        inventories,
      });
      if (PlacementClient.#isConcurrent(res) && i < RETRIES) continue;
      return this.#check(res, 200).body.resource_provider_generation as number;
    }
  }

  async setTraits(uuid: string, traits: string[]): Promise<void> {
    for (const t of traits.filter((x) => x.startsWith('CUSTOM_'))) {
      this.#check(await this.#call('PUT', `/traits/${t}`), 201, 204);
    }
    for (let i = 0; ; i++) {
      const rp = await this.getProvider(uuid);
      if (!rp)
        throw new ApiError(404, 'placement.undefined_code', `No resource provider with uuid ${uuid} found`);
      const res = await this.#call('PUT', `/resource_providers/${uuid}/traits`, {
        traits,
        resource_provider_generation: rp.generation,
      });
      if (PlacementClient.#isConcurrent(res) && i < RETRIES) continue;
      this.#check(res, 200);
      return;
    }
  }

  async setAggregates(uuid: string, aggregates: string[]): Promise<void> {
    for (let i = 0; ; i++) {
      const rp = await this.getProvider(uuid);
      if (!rp)
        throw new ApiError(404, 'placement.undefined_code', `No resource provider with uuid ${uuid} found`);
      const res = await this.#call('PUT', `/resource_providers/${uuid}/aggregates`, {
        aggregates,
        resource_provider_generation: rp.generation,
      });
      if (PlacementClient.#isConcurrent(res) && i < RETRIES) continue;
      this.#check(res, 200);
      return;
    }
  }

  async getAllocationCandidates(q: CandidateQuery): Promise<{
    allocationRequests: AllocationRequest[];
    providerSummaries: Record<string, ProviderSummary>;
  }> {
    const params: [string, string][] = [
      [
        'resources',
        Object.entries(q.resources)
          .filter(([, n]) => n > 0)
          .map(([rc, n]) => `${rc}:${n}`)
          .join(','),
      ],
    ];
    const traits = [...(q.required ?? []), ...(q.forbidden ?? []).map((t) => `!${t}`)];
    if (traits.length) params.push(['required', traits.join(',')]);
    for (const any of q.memberOf ?? [])
      params.push(['member_of', any.length > 1 ? `in:${any.join(',')}` : any[0]!]);
    if (q.inTree) params.push(['in_tree', q.inTree]);
    if (q.limit) params.push(['limit', String(q.limit)]);
    const local = this.#local();
    const body = local
      ? await local.allocationCandidates(queryMap(params), this.#mv)
      : this.#check(
          await this.#call('GET', `/allocation_candidates?${new URLSearchParams(params).toString()}`),
          200,
        ).body;
    return {
      allocationRequests: body.allocation_requests as AllocationRequest[],
      providerSummaries: body.provider_summaries as Record<string, ProviderSummary>,
    };
  }

  /** Writes the consumer's allocations: true on success, false on a 409 (capacity or a generation lost a race). */
  async claim(consumerUuid: string, c: ClaimInput): Promise<boolean> {
    const body: Record<string, unknown> = {
      allocations: c.allocations,
      project_id: c.projectId,
      user_id: c.userId,
      consumer_generation: c.consumerGeneration,
    };
    if (this.#withTypes) body['consumer_type'] = c.consumerType ?? 'INSTANCE';
    const local = this.#local();
    if (local) {
      try {
        await local.putAllocations(consumerUuid, body, this.#mv);
        return true;
      } catch (err) {
        if (isApiError(err) && err.status === 409) return false;
        throw err;
      }
    }
    const res = await this.#call('PUT', `/allocations/${consumerUuid}`, body);
    if (res.status === 409) return false;
    this.#check(res, 204);
    return true;
  }

  async getAllocations(consumerUuid: string): Promise<ConsumerAllocations> {
    return this.#check(await this.#call('GET', `/allocations/${consumerUuid}`), 200)
      .body as ConsumerAllocations;
  }

  /** Removes the consumer's allocations; none is fine. */
  async deleteAllocations(consumerUuid: string): Promise<void> {
    const local = this.#local();
    if (local) {
      try {
        await local.deleteAllocations(consumerUuid, this.#mv);
      } catch (err) {
        if (!(isApiError(err) && err.status === 404)) throw err;
      }
      return;
    }
    this.#check(await this.#call('DELETE', `/allocations/${consumerUuid}`), 204, 404);
  }

  /** Moves every allocation of `from` to `to` in one POST /allocations (Nova's migration allocations). */
  async moveAllocations(from: string, to: string): Promise<boolean> {
    for (let i = 0; ; i++) {
      const [src, dst] = await Promise.all([this.getAllocations(from), this.getAllocations(to)]);
      if (Object.keys(src.allocations).length === 0) return false;
      const strip = (a: ConsumerAllocations['allocations']) =>
        Object.fromEntries(Object.entries(a).map(([rp, v]) => [rp, { resources: v.resources }]));
      const entry = (allocations: Record<string, unknown>, gen: number | null, type: string) => ({
        allocations,
        project_id: src.project_id,
        user_id: src.user_id,
        consumer_generation: gen,
        ...(this.#withTypes ? { consumer_type: type } : {}),
      });
      const toType = src.consumer_type === 'MIGRATION' ? 'INSTANCE' : 'MIGRATION';
      const res = await this.#call('POST', '/allocations', {
        [to]: entry(strip(src.allocations), dst.consumer_generation ?? null, toType),
        [from]: entry({}, src.consumer_generation ?? null, src.consumer_type ?? 'INSTANCE'),
      });
      if (PlacementClient.#isConcurrent(res) && i < RETRIES) continue;
      this.#check(res, 204);
      return true;
    }
  }

  /** A project's total usage per resource class. */
  async usages(projectId: string): Promise<Record<string, number>> {
    const res = this.#check(
      await this.#call('GET', `/usages?project_id=${encodeURIComponent(projectId)}`),
      200,
    );
    const usages = res.body.usages as Record<string, unknown>;
    if (!this.#withTypes) return usages as Record<string, number>;
    // From 1.38 usages are grouped by consumer type; sum the groups.
    const out: Record<string, number> = {};
    for (const group of Object.values(usages) as Record<string, number>[]) {
      for (const [rc, n] of Object.entries(group)) if (rc !== 'consumer_count') out[rc] = (out[rc] ?? 0) + n;
    }
    return out;
  }
}

/** Query pairs as a server parses them: one value a string, a repeated key an array in order. */
function queryMap(pairs: [string, string][]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of pairs) {
    const had = out[k];
    out[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
  }
  return out;
}
