// PlacementLocal: the scheduler's hot Placement calls answered in-process — the same domain code the HTTP
// handlers run (no inject, auth hook or JSON round trip), with the errors those handlers would send.
import { ApiError, isApiError } from '../../platform/errors.ts';
import { type Microversion, negotiate } from '../../platform/http/microversion.ts';
import type { PlacementContext } from './context.ts';
import { type CandidatesBody, searchCandidates } from './domain/candidate-search.ts';
import { deleteConsumer, parseConsumerPut, putConsumerAllocations } from './domain/consumer-allocations.ts';
import { placementMicroversions } from './domain/versions.ts';
import { PlacementErrors } from './errors.ts';

export type QueryMap = Record<string, string | string[]>;

/**
 * Three routes as direct calls, inputs and outputs as on the wire: the parsed query string, the JSON body, the
 * JSON response. Errors are ApiErrors with the status, `placement.*` code and detail the HTTP body would carry.
 * Callers are trusted (the service itself): no token, no policy.
 */
export interface PlacementLocal {
  /** GET /allocation_candidates?query: its body. */
  allocationCandidates(query: QueryMap, microversion: string): Promise<CandidatesBody>;
  /** PUT /allocations/{consumer} with `body` (a 204). */
  putAllocations(consumer: string, body: unknown, microversion: string): Promise<void>;
  /** DELETE /allocations/{consumer} (a 204; 404 when it has none). */
  deleteAllocations(consumer: string, microversion: string): Promise<void>;
}

const INTERNAL = 'An unexpected error prevented the server from fulfilling your request.';

export function createPlacementLocal(px: PlacementContext): PlacementLocal {
  const versions = new Map<string, Microversion>();
  /** The version an `OpenStack-API-Version: placement <v>` header negotiates (406 outside the range). */
  const mvOf = (v: string): Microversion => {
    let mv = versions.get(v);
    if (!mv) {
      mv = negotiate(placementMicroversions, { 'openstack-api-version': `placement ${v}` });
      versions.set(v, mv);
    }
    return mv;
  };
  /** Errors as the placement dialect renders them, read back as the client does. */
  const run = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (isApiError(err)) {
        const code = err.code.startsWith('placement.') ? err.code : 'placement.undefined_code';
        throw code === err.code ? err : new ApiError(err.status, code, err.message);
      }
      px.log.error({ err, call: what }, 'unhandled error in a local placement call');
      throw new ApiError(500, 'placement.undefined_code', INTERNAL);
    }
  };
  return {
    allocationCandidates: (query, microversion) =>
      run('allocation_candidates', async () => {
        const mv = mvOf(microversion);
        if (!mv.atLeast('1.10')) throw PlacementErrors.notFound();
        return searchCandidates(px, { query }, mv);
      }),
    putAllocations: (consumer, body, microversion) =>
      run('put allocations', async () => {
        const mv = mvOf(microversion);
        await putConsumerAllocations(px, [parseConsumerPut(consumer, body, mv)], mv);
      }),
    deleteAllocations: (consumer, microversion) =>
      run('delete allocations', async () => {
        mvOf(microversion);
        await deleteConsumer(px, consumer);
      }),
  };
}
