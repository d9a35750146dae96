// POST /v2.0/subnets: a given CIDR or one allocated from a subnet pool, Neutron's validation, default gateway and
// pools, then EUI-64 addresses for existing ports (SLAAC) and the network's DHCP port.
import type { Change } from '../../../platform/db/writer.ts';
import { ApiError } from '../../../platform/errors.ts';
import type { RouteContext } from '../../../platform/http/types.ts';
import type { NetworkContext, NetworkTrx } from '../context.ts';
import { formatCidr, formatIp, type Net, parseCidr, parseIp } from '../domain/cidr.ts';
import { addAutoAddresses, syncDhcpPort } from '../domain/port-dhcp.ts';
import { writeRetrying } from '../domain/port-write.ts';
import { enforceQuota } from '../domain/quota-check.ts';
import { allocateAnyPrefix, allocateSpecificPrefix } from '../domain/subnet-alloc.ts';
import { isAutoAddress, subnetInfo, subnetsOfNetwork } from '../domain/subnet-rows.ts';
import {
  checkOverlap,
  checkPools,
  generatePools,
  poolsJson,
  subnetsBadRequest,
  validateIpv6Modes,
  validateSubnet,
} from '../domain/subnet-validate.ts';
import type { NetworksTable, SubnetPoolsTable, SubnetsTable } from '../store/tables-core.ts';
import { callerOf, targetOf } from './common.ts';
import { findVisibleNetwork } from './networks.ts';
import { enforceAttrPolicies, type ParsedItem, parseCreate, view } from './resource.ts';
import { findUsablePool } from './subnetpools.ts';
import { renderSubnets, subnetSpec } from './subnets-spec.ts';

const given = (v: unknown): boolean => v !== undefined && v !== null;

async function resolvePool(
  cx: NetworkContext,
  ctx: RouteContext,
  trx: NetworkTrx,
  // biome-ignore lint/suspicious/noExplicitAny: parsed request values (converted and validated by the spec).
  v: Record<string, any>,
): Promise<SubnetPoolsTable | undefined> {
  const poolId = given(v['subnetpool_id']) ? (v['subnetpool_id'] as string) : undefined;
  if (v['use_default_subnetpool'] && poolId)
    throw subnetsBadRequest('subnetpool_id and use_default_subnetpool cannot both be specified');
  if (poolId) return findUsablePool(cx, ctx, poolId, trx);
  if (!v['use_default_subnetpool']) return undefined;
  const version = given(v['cidr']) ? parseCidr(v['cidr'])!.net.version : v['ip_version'];
  const pool = await trx
    .selectFrom('network_subnetpools')
    .selectAll()
    .where('is_default', '=', 1)
    .where('ip_version', '=', version)
    .executeTakeFirst();
  if (!pool) throw subnetsBadRequest(`No default subnetpool found for IPv${version}`);
  return pool;
}

async function chooseCidr(
  trx: NetworkTrx,
  // biome-ignore lint/suspicious/noExplicitAny: parsed request values (converted and validated by the spec).
  v: Record<string, any>,
  pool: SubnetPoolsTable | undefined,
): Promise<Net> {
  const cidr = given(v['cidr']) ? parseCidr(v['cidr'])!.net : undefined;
  if (!pool) {
    if (!cidr) throw subnetsBadRequest('a subnetpool must be specified in the absence of a cidr');
    return cidr;
  }
  if (given(v['allocation_pools']) && !cidr)
    throw subnetsBadRequest('allocation_pools allowed only for specific subnet requests.');
  if (v['ip_version'] !== pool.ip_version)
    throw subnetsBadRequest(
      `Cannot allocate IPv${v['ip_version']} subnet from IPv${pool.ip_version} subnet pool`,
    );
  let prefixlen: number = v['prefixlen'] ?? pool.default_prefixlen;
  let want: Net | undefined = cidr;
  if (!want && typeof v['gateway_ip'] === 'string') {
    want = parseCidr(`${v['gateway_ip']}/${prefixlen}`)?.net;
  }
  if (want) prefixlen = want.prefixlen;
  if (prefixlen > pool.max_prefixlen)
    throw new ApiError(
      400,
      'MaxPrefixSubnetAllocationError',
      `Unable to allocate subnet with prefix length ${prefixlen}, maximum allowed prefix is ${pool.max_prefixlen}.`,
    );
  if (prefixlen < pool.min_prefixlen)
    throw new ApiError(
      400,
      'MinPrefixSubnetAllocationError',
      `Unable to allocate subnet with prefix length ${prefixlen}, minimum allowed prefix is ${pool.min_prefixlen}.`,
    );
  return want
    ? allocateSpecificPrefix(trx, pool, v['project_id'], want)
    : allocateAnyPrefix(trx, pool, v['project_id'], prefixlen);
}

/** Creates one subnet inside a write. */
export async function insertSubnet(
  cx: NetworkContext,
  ctx: RouteContext,
  trx: NetworkTrx,
  record: (c: Change) => void,
  network: NetworksTable,
  // biome-ignore lint/suspicious/noExplicitAny: parsed request values (converted and validated by the spec).
  v: Record<string, any>,
  attempt: number,
): Promise<SubnetsTable> {
  await enforceQuota(cx, trx, v['project_id'], 'subnet');
  if (given(v['cidr']) && given(v['prefixlen']))
    throw subnetsBadRequest('cidr and prefixlen must not be supplied together');
  const pool = await resolvePool(cx, ctx, trx, v);
  const net = await chooseCidr(trx, v, pool);
  const cidrText = formatCidr(net);
  const version = v['ip_version'] as 4 | 6;
  const anyFromPool = pool !== undefined && !given(v['cidr']) && typeof v['gateway_ip'] !== 'string';
  let gateway: string | null;
  if (v['gateway_ip'] === undefined || anyFromPool)
    gateway = formatIp({
      version: net.version,
      value: net.version === 6 && !anyFromPool ? net.network : net.network + 1n,
    });
  else gateway = v['gateway_ip'];
  const spec = {
    ipVersion: version,
    net,
    cidrText: given(v['cidr']) ? (v['cidr'] as string) : cidrText,
    gateway,
    dns: v['dns_nameservers'] ?? [],
    routes: v['host_routes'] ?? [],
    enableDhcp: v['enable_dhcp'],
    raMode: v['ipv6_ra_mode'] ?? null,
    addressMode: v['ipv6_address_mode'] ?? null,
  };
  validateSubnet(spec);
  validateIpv6Modes({ ...spec, cidrText });
  const others = await subnetsOfNetwork(trx, network.id);
  checkOverlap(
    net,
    cidrText,
    network.id,
    others.map((o) => o.net),
  );
  const ranges = given(v['allocation_pools'])
    ? checkPools(v['allocation_pools'], net, gateway)
    : generatePools(net, gateway);
  const now = cx.nowIso();
  const row: SubnetsTable = {
    id: cx.ids.uuid(),
    project_id: v['project_id'],
    name: v['name'],
    description: v['description'],
    created_at: now,
    updated_at: now,
    revision_number: 1,
    network_id: network.id,
    ip_version: version,
    cidr: cidrText,
    gateway_ip: gateway === null ? null : formatIp(parseIp(gateway)!),
    enable_dhcp: v['enable_dhcp'] ? 1 : 0,
    ipv6_ra_mode: v['ipv6_ra_mode'] ?? null,
    ipv6_address_mode: v['ipv6_address_mode'] ?? null,
    subnetpool_id: pool?.id ?? null,
    allocation_pools: poolsJson(ranges, version),
    dns_nameservers: JSON.stringify(v['dns_nameservers'] ?? []),
    host_routes: JSON.stringify(v['host_routes'] ?? []),
    service_types: JSON.stringify(v['service_types'] ?? []),
  };
  await trx.insertInto('network_subnets').values(row).execute();
  record({ kind: 'subnet', id: row.id, action: 'create', projectId: row.project_id });
  if (isAutoAddress(row)) await addAutoAddresses(cx, trx, subnetInfo(row), record);
  await syncDhcpPort(cx, trx, network.id, record, attempt);
  return row;
}

export async function createSubnets(cx: NetworkContext, ctx: RouteContext) {
  const { items, bulk } = parseCreate(subnetSpec, callerOf(ctx), ctx.body);
  const nets: NetworksTable[] = [];
  for (const item of items as ParsedItem[]) {
    const network = await findVisibleNetwork(cx, ctx, item.values['network_id']);
    const target = targetOf(item.values, { 'network:tenant_id': network.project_id });
    ctx.authorize('create_subnet', target);
    enforceAttrPolicies(ctx, subnetSpec, 'create', item, target);
    nets.push(network);
  }
  const rows = await writeRetrying(cx, async (trx, record, attempt) => {
    const out: SubnetsTable[] = [];
    for (const [i, item] of items.entries())
      out.push(await insertSubnet(cx, ctx, trx, record, nets[i]!, item.values, attempt));
    return out;
  });
  const views = (await renderSubnets(cx.db, rows)).map((s) => view(ctx, subnetSpec, s));
  return bulk ? { status: 201, body: { subnets: views } } : { status: 201, body: { subnet: views[0] } };
}
