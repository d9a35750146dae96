// Row → Keystone wire body, for every identity resource; list envelopes with links.
import { parseJson } from '../context.ts';
import {
  type DomainRow,
  type EndpointRow,
  GLOBAL_ROLE_DOMAIN,
  type GroupRow,
  type ProjectRow,
  type RegionRow,
  type RoleRow,
  type ServiceRow,
  type UserRow,
} from '../store/tables.ts';

type Body = Record<string, unknown>;

const link = (base: string, path: string) => ({ self: `${base}/v3/${path}` });

export function listBody(key: string, items: unknown[], base: string, path: string, query = ''): Body {
  return {
    [key]: items,
    links: { self: `${base}/v3/${path}${query ? `?${query}` : ''}`, previous: null, next: null },
  };
}

export function domainView(r: DomainRow, base: string, tags: string[] = []): Body {
  return {
    ...parseJson(r.extra),
    id: r.id,
    name: r.name,
    description: r.description,
    enabled: r.enabled === 1,
    tags,
    options: {},
    links: link(base, `domains/${r.id}`),
  };
}

export function projectView(r: ProjectRow, base: string, tags: string[] = []): Body {
  return {
    ...parseJson(r.extra),
    id: r.id,
    name: r.name,
    domain_id: r.domain_id,
    description: r.description,
    enabled: r.enabled === 1,
    parent_id: r.parent_id ?? r.domain_id,
    is_domain: false,
    tags,
    options: {},
    links: link(base, `projects/${r.id}`),
  };
}

/** Keystone serialises datetimes without the Z in user bodies ("2026-11-21T06:27:59.000000"). */
export function keystoneTime(iso: string | null): string | null {
  if (!iso) return null;
  return iso.replace(/\.(\d{3})Z$/, '.$1000').replace(/Z$/, '');
}

export function userView(r: UserRow, base: string): Body {
  const body: Body = {
    ...parseJson(r.extra),
    id: r.id,
    name: r.name,
    domain_id: r.domain_id,
    enabled: r.enabled === 1,
    password_expires_at: keystoneTime(r.password_expires_at),
    options: parseJson(r.options),
    links: link(base, `users/${r.id}`),
  };
  if (r.default_project_id) body['default_project_id'] = r.default_project_id;
  return body;
}

export function groupView(r: GroupRow, base: string): Body {
  return {
    ...parseJson(r.extra),
    id: r.id,
    name: r.name,
    domain_id: r.domain_id,
    description: r.description,
    links: link(base, `groups/${r.id}`),
  };
}

export function roleView(r: RoleRow, base: string): Body {
  return {
    ...parseJson(r.extra),
    id: r.id,
    name: r.name,
    domain_id: r.domain_id === GLOBAL_ROLE_DOMAIN ? null : r.domain_id,
    description: r.description || null,
    options: parseJson(r.options),
    links: link(base, `roles/${r.id}`),
  };
}

/** The short role reference used in tokens and implied-role bodies. */
export function roleRef(r: RoleRow, base: string): Body {
  const body: Body = { id: r.id, name: r.name, links: link(base, `roles/${r.id}`) };
  if (r.domain_id !== GLOBAL_ROLE_DOMAIN) body['domain_id'] = r.domain_id;
  return body;
}

export function regionView(r: RegionRow, base: string): Body {
  return {
    ...parseJson(r.extra),
    id: r.id,
    description: r.description,
    parent_region_id: r.parent_region_id,
    links: link(base, `regions/${r.id}`),
  };
}

export function serviceView(r: ServiceRow, base: string): Body {
  const extra = parseJson(r.extra);
  return {
    ...extra,
    id: r.id,
    type: r.type,
    enabled: r.enabled === 1,
    links: link(base, `services/${r.id}`),
  };
}

export function endpointView(r: EndpointRow, base: string): Body {
  return {
    ...parseJson(r.extra),
    id: r.id,
    interface: r.interface,
    region_id: r.region_id,
    region: r.region_id,
    url: r.url,
    service_id: r.service_id,
    enabled: r.enabled === 1,
    links: link(base, `endpoints/${r.id}`),
  };
}
