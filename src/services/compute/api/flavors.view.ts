// Nova's flavor bodies per microversion: the brief (index) and full (show/detail) views, and their links.
import type { RouteContext } from '../../../platform/http/types.ts';
import type { FlavorRow } from '../store/tables.ts';
import { nextLinks, parseJson, resourceLinks } from './common.ts';

export interface FlavorViewOpts {
  /** 2.55+: description. */
  description: boolean;
  /** 2.61+ for callers allowed os-flavor-extra-specs:index. */
  extraSpecs: boolean;
}

/** What a request may see of a flavor: description from 2.55, extra_specs from 2.61 when policy allows. */
export function flavorViewOpts(ctx: RouteContext): FlavorViewOpts {
  const mv = ctx.mv;
  const extraSpecs =
    mv?.atLeast('2.61') === true &&
    ctx.can('os_compute_api:os-flavor-extra-specs:index', { project_id: ctx.auth?.projectId ?? null });
  return { description: mv?.atLeast('2.55') ?? false, extraSpecs };
}

export function extraSpecsOf(row: FlavorRow): Record<string, string> {
  return parseJson<Record<string, string>>(row.extra_specs, {});
}

export function flavorBrief(
  ctx: RouteContext,
  row: FlavorRow,
  opts: FlavorViewOpts,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: row.id,
    name: row.name,
    links: resourceLinks(ctx, `flavors/${row.id}`),
  };
  if (opts.description) out['description'] = row.description;
  return out;
}

export function flavorFull(ctx: RouteContext, row: FlavorRow, opts: FlavorViewOpts): Record<string, unknown> {
  const swapAsZero = ctx.mv?.atLeast('2.75') ?? false;
  const out: Record<string, unknown> = {
    id: row.id,
    name: row.name,
    ram: row.memory_mb,
    disk: row.root_gb,
    swap: row.swap ? row.swap : swapAsZero ? 0 : '',
    'OS-FLV-EXT-DATA:ephemeral': row.ephemeral_gb,
    'OS-FLV-DISABLED:disabled': row.disabled === 1,
    vcpus: row.vcpus,
    'os-flavor-access:is_public': row.is_public === 1,
    rxtx_factor: row.rxtx_factor ? row.rxtx_factor : '',
    links: resourceLinks(ctx, `flavors/${row.id}`),
  };
  if (opts.description) out['description'] = row.description;
  if (opts.extraSpecs) out['extra_specs'] = extraSpecsOf(row);
  return out;
}

/** {"flavors": [...], "flavors_links": [...]} for index (brief) or detail (full). */
export function flavorList(
  ctx: RouteContext,
  rows: FlavorRow[],
  detail: boolean,
  limit: number,
): Record<string, unknown> {
  const opts = detail ? flavorViewOpts(ctx) : { ...flavorViewOpts(ctx), extraSpecs: false };
  const flavors = rows.map((r) => (detail ? flavorFull(ctx, r, opts) : flavorBrief(ctx, r, opts)));
  const out: Record<string, unknown> = { flavors };
  const links = nextLinks(ctx, detail ? 'flavors/detail' : 'flavors', rows, limit);
  if (links) out['flavors_links'] = links;
  return out;
}

/** os-flavor-access's {"flavor_access": [{flavor_id, tenant_id}]}. */
export function flavorAccessView(flavorId: string, projects: string[]): Record<string, unknown> {
  return { flavor_access: projects.map((p) => ({ flavor_id: flavorId, tenant_id: p })) };
}
