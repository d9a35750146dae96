// The networks a server asks for (POST /servers "networks" and "security_groups"), checked against Neutron as
// the caller, as Nova's validate_networks and _check_requested_secgroups do; the result is kept in the
// server's request spec and allocated on its host.
import { isNeutronError, type NeutronNetwork, type NeutronSession } from '../../../clients/network.ts';
import { ApiError } from '../../../platform/errors.ts';
import { isUuidLike } from '../api/resource-common.ts';
import { ComputeErrors } from '../errors.ts';

/** One entry of a server's requested networks, resolved: a network (maybe with an address) or a port. */
export interface RequestedNetwork {
  networkId?: string;
  portId?: string;
  fixedIp?: string;
  tag?: string;
}

/** Nova's _get_available_networks: the project's own non-shared networks, then the shared ones. */
export async function availableNetworks(
  neutron: NeutronSession,
  projectId: string,
  ids?: string[],
): Promise<NeutronNetwork[]> {
  if (ids?.length) {
    const nets = await neutron.listNetworks({ id: ids });
    return ids.map((id) => nets.find((n) => n.id === id)).filter((n): n is NeutronNetwork => n !== undefined);
  }
  const own = await neutron.listNetworks({ tenant_id: projectId, shared: false });
  const shared = await neutron.listNetworks({ shared: true });
  return [...own, ...shared.filter((n) => !own.some((o) => o.id === n.id))];
}

const ambiguous = () =>
  new ApiError(
    409,
    'NetworkAmbiguous',
    'Multiple possible networks found, use a Network ID to be more specific.',
  );

/** Parses the body's networks as Nova's _get_requested_networks (formats, duplicates of ports). */
function parseRequested(raw: unknown): RequestedNetwork[] | 'auto' | 'none' | undefined {
  if (raw === 'auto' || raw === 'none') return raw;
  if (!Array.isArray(raw)) return undefined;
  const out: RequestedNetwork[] = [];
  const ports = new Set<string>();
  for (const n of raw as Record<string, unknown>[]) {
    const r: RequestedNetwork = {};
    if (typeof n['tag'] === 'string') r.tag = n['tag'];
    const port = n['port'];
    if (typeof port === 'string' && port !== '') {
      if (!isUuidLike(port))
        throw ComputeErrors.badRequest(`Bad port format: port uuid is not in proper format (${port})`);
      if (ports.has(port)) throw ComputeErrors.badRequest(`Port ${port} is still in use.`);
      ports.add(port);
      r.portId = port;
    } else {
      const uuid = String(n['uuid'] ?? '');
      if (!isUuidLike(uuid))
        throw ComputeErrors.badRequest(`Bad networks format: network uuid is not in proper format (${uuid})`);
      r.networkId = uuid;
      if (typeof n['fixed_ip'] === 'string') r.fixedIp = n['fixed_ip'];
    }
    out.push(r);
  }
  return out;
}

/**
 * Checks the requested networks and groups as the caller and resolves them to a list: "auto" or nothing asked
 * becomes the one usable network (two or more: 409 NetworkAmbiguous; none: no port, or 400 for "auto").
 */
export async function checkRequestedNetworks(
  neutron: NeutronSession,
  opts: { projectId: string; isAdmin: boolean; networks: unknown; maxCount: number },
): Promise<RequestedNetwork[]> {
  const parsed = parseRequested(opts.networks);
  if (parsed === 'none') return [];
  if (parsed === undefined || parsed === 'auto' || parsed.length === 0) {
    const nets = await availableNetworks(neutron, opts.projectId);
    if (nets.length > 1) throw ambiguous();
    if (nets.length === 0) {
      if (parsed === 'auto')
        throw new ApiError(
          400,
          'UnableToAutoAllocateNetwork',
          `Unable to automatically allocate a network for project ${opts.projectId}`,
        );
      return [];
    }
    return [{ networkId: nets[0]!.id }];
  }
  const netIds: string[] = [];
  for (const r of parsed) {
    if (r.portId) {
      if (opts.maxCount > 1)
        throw ComputeErrors.badRequest(
          'Unable to launch multiple instances with a single configured port ID. Please launch your instance one by one with different ports.',
        );
      let port: Awaited<ReturnType<NeutronSession['showPort']>>;
      try {
        port = await neutron.showPort(r.portId);
      } catch (err) {
        if (isNeutronError(err, 404))
          throw new ApiError(400, 'PortNotFound', `Port id ${r.portId} could not be found.`);
        throw err;
      }
      if (port.device_id) throw new ApiError(409, 'PortInUse', `Port ${r.portId} is still in use.`);
      if (!port.fixed_ips?.length)
        throw ComputeErrors.badRequest(`Port ${r.portId} requires a FixedIP in order to be used.`);
      continue;
    }
    netIds.push(r.networkId!);
    if (r.fixedIp) {
      if (opts.maxCount > 1)
        throw ComputeErrors.badRequest('max_count cannot be greater than 1 if an fixed_ip is specified.');
      const used = await neutron.listPorts({ network_id: r.networkId, fixed_ips: `ip_address=${r.fixedIp}` });
      if (used.length > 0)
        throw ComputeErrors.badRequest(
          `Fixed IP address ${r.fixedIp} is already in use on instance ${used[0]!.device_id}.`,
        );
    }
  }
  if (netIds.length) {
    const unique = [...new Set(netIds)];
    const nets = await availableNetworks(neutron, opts.projectId, unique);
    for (const n of nets) {
      if (!n.subnets?.length)
        throw ComputeErrors.badRequest(`Network ${n.id} requires a subnet in order to boot instances on.`);
      if (n['router:external'] === true && !n.shared && !opts.isAdmin)
        throw ComputeErrors.forbidden(`It is not allowed to create an interface on external network ${n.id}`);
    }
    const lost = unique.filter((id) => !nets.some((n) => n.id === id));
    if (lost.length)
      throw new ApiError(400, 'NetworkNotFound', `Network ${lost.join(', ')} could not be found.`);
  }
  return parsed;
}

/**
 * Checks requested security group names (or ids) exist for the caller's project; "default" is always fine
 * (Neutron creates it on first use).
 */
export async function checkRequestedGroups(
  neutron: NeutronSession,
  projectId: string,
  names: string[],
): Promise<void> {
  const wanted = names.filter((n) => n !== 'default');
  if (!wanted.length) return;
  const groups = await neutron.listSecurityGroups({ tenant_id: projectId, fields: ['id', 'name'] });
  for (const name of wanted) {
    const byName = groups.filter((g) => g.name === name);
    if (byName.length > 1)
      throw new ApiError(
        409,
        'NoUniqueMatch',
        `Multiple security group matches found for name '${name}', use an ID to be more specific.`,
      );
    if (byName.length === 0 && !groups.some((g) => g.id === name))
      throw new ApiError(
        400,
        'SecurityGroupNotFound',
        `Unable to find security_group with name or id '${name}'`,
      );
  }
}
