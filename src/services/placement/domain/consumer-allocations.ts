// Consumer allocation writes as PUT/POST/DELETE /allocations make them — the body read per microversion into
// ConsumerWrites, the write transaction with its feed events — shared by the handlers and the local path.
import type { Microversion } from '../../../platform/http/microversion.ts';
import { isUuidLike, normalizeUuid, validateJson } from '../api/common.ts';
import {
  ALLOCATION_1_0,
  ALLOCATION_1_8,
  ALLOCATION_1_12,
  ALLOCATION_1_28,
  ALLOCATION_1_34,
  ALLOCATION_1_38,
} from '../api/schemas.ts';
import type { PlacementContext } from '../context.ts';
import { PlacementErrors } from '../errors.ts';
import {
  type ConsumerWrite,
  deleteConsumerAllocations,
  INCOMPLETE_CONSUMER_ID,
  writeAllocations,
} from './allocation-write.ts';

type Resources = Record<string, number>;

/** The body schema of PUT /allocations/{consumer_uuid} at `mv`. */
export function putAllocationsSchema(mv: Microversion): Record<string, unknown> {
  if (mv.atLeast('1.38')) return ALLOCATION_1_38;
  if (mv.atLeast('1.34')) return ALLOCATION_1_34;
  if (mv.atLeast('1.28')) return ALLOCATION_1_28;
  if (mv.atLeast('1.12')) return ALLOCATION_1_12;
  if (mv.atLeast('1.8')) return ALLOCATION_1_8;
  return ALLOCATION_1_0;
}

/** The allocations of one consumer entry, as rp uuid → resources (the pre-1.12 list form converted). */
function allocationsOf(data: Record<string, unknown>, listForm: boolean): Record<string, Resources> {
  const out: Record<string, Resources> = {};
  if (listForm) {
    for (const a of data['allocations'] as { resource_provider: { uuid: string }; resources: Resources }[]) {
      out[normalizeUuid(a.resource_provider.uuid)] = a.resources;
    }
  } else {
    for (const [rp, a] of Object.entries(data['allocations'] as Record<string, { resources: Resources }>)) {
      out[normalizeUuid(rp)] = a.resources;
    }
  }
  return out;
}

/** One validated consumer entry of a PUT or POST body as a ConsumerWrite. */
export function consumerWriteOf(
  uuid: string,
  data: Record<string, unknown>,
  mv: Microversion,
): ConsumerWrite {
  const projectId = (data['project_id'] as string | undefined) ?? INCOMPLETE_CONSUMER_ID;
  const userId = data['project_id'] === undefined ? INCOMPLETE_CONSUMER_ID : (data['user_id'] as string);
  return {
    uuid,
    projectId,
    userId,
    generation: mv.atLeast('1.28') ? (data['consumer_generation'] as number | null) : undefined,
    consumerType: mv.atLeast('1.38') ? (data['consumer_type'] as string) : undefined,
    allocations: allocationsOf(data, !mv.atLeast('1.12')),
  };
}

/** PUT /allocations/{consumer_uuid}'s input checks: the consumer uuid, then the body against the version's schema. */
export function parseConsumerPut(rawUuid: string, body: unknown, mv: Microversion): ConsumerWrite {
  if (!isUuidLike(rawUuid)) throw PlacementErrors.badRequest(`Malformed consumer_uuid: ${rawUuid}`);
  const data = validateJson(body, putAllocationsSchema(mv));
  return consumerWriteOf(normalizeUuid(rawUuid), data, mv);
}

/** Replaces the allocations of every consumer in `writes` in one transaction, one feed event each. */
export async function putConsumerAllocations(
  px: PlacementContext,
  writes: ConsumerWrite[],
  mv: Microversion,
): Promise<void> {
  const now = px.nowIso();
  await px.writeAllocations(async (trx, record, delta) => {
    await writeAllocations(trx, writes, { checkGeneration: mv.atLeast('1.28'), now }, delta);
    for (const w of writes)
      record({ kind: 'allocation', id: w.uuid, action: 'update', projectId: w.projectId });
  });
}

/** DELETE /allocations/{consumer_uuid}: the consumer's allocations and the consumer; 404 when it had none. */
export async function deleteConsumer(px: PlacementContext, consumer: string): Promise<void> {
  await px.writeAllocations(async (trx, record, delta) => {
    if (!(await deleteConsumerAllocations(trx, consumer, delta))) {
      throw PlacementErrors.notFound(`No allocations for consumer '${consumer}'`);
    }
    record({ kind: 'allocation', id: consumer, action: 'delete' });
  });
}
