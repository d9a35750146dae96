// /os-availability-zone (nova/api/openstack/compute/availability_zone.py): the zones of enabled services for
// everyone, and for admins (detail) each zone's hosts and their services.
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { ComputeContext } from '../context.ts';
import { INTERNAL_ZONE } from '../domain/zones.ts';
import { V } from './flavors.ts';
import { allServices, type ServiceRecord } from './services.ts';

/** availability_zones.get_availability_zones: zones with an enabled service, then zones with only disabled ones. */
function zonesOf(services: ServiceRecord[]): { available: string[]; unavailable: string[] } {
  const available: string[] = [];
  for (const s of services) if (!s.disabled && !available.includes(s.zone)) available.push(s.zone);
  const unavailable: string[] = [];
  for (const s of services) {
    if (s.disabled && !available.includes(s.zone) && !unavailable.includes(s.zone)) unavailable.push(s.zone);
  }
  return { available, unavailable };
}

async function list(cx: ComputeContext, ctx: RouteContext) {
  ctx.authorize('os_compute_api:os-availability-zone:list', {
    project_id: ctx.auth?.projectId ?? null,
    user_id: ctx.auth?.userId ?? null,
  });
  const { available, unavailable } = zonesOf(await allServices(cx));
  const info = [
    ...available
      .filter((z) => z !== INTERNAL_ZONE)
      .map((z) => ({ zoneName: z, zoneState: { available: true }, hosts: null })),
    ...unavailable
      .filter((z) => z !== INTERNAL_ZONE)
      .map((z) => ({ zoneName: z, zoneState: { available: false }, hosts: null })),
  ];
  return { body: { availabilityZoneInfo: info } };
}

async function detail(cx: ComputeContext, ctx: RouteContext) {
  ctx.authorize('os_compute_api:os-availability-zone:detail', {
    project_id: ctx.auth?.projectId ?? null,
    user_id: ctx.auth?.userId ?? null,
  });
  const services = await allServices(cx);
  const { available, unavailable } = zonesOf(services);
  const info: Record<string, unknown>[] = [];
  for (const zone of available) {
    const hosts: Record<string, Record<string, unknown>> = {};
    for (const s of services) {
      if (s.disabled || s.zone !== zone) continue;
      hosts[s.host] ??= {};
      hosts[s.host]![s.binary] = { available: s.up, active: true, updated_at: s.updated_at };
    }
    info.push({ zoneName: zone, zoneState: { available: true }, hosts });
  }
  for (const zone of unavailable) info.push({ zoneName: zone, zoneState: { available: false }, hosts: null });
  return { body: { availabilityZoneInfo: info } };
}

export function availabilityZoneRoutes(cx: ComputeContext): Route[] {
  return [
    { method: 'GET', path: `${V}/os-availability-zone`, handler: (ctx) => list(cx, ctx) },
    { method: 'GET', path: `${V}/os-availability-zone/detail`, handler: (ctx) => detail(cx, ctx) },
  ];
}
