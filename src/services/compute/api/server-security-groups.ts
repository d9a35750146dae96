// A server's security groups from Neutron: GET /servers/{id}/os-security-groups (its ports' groups in full)
// and the add/remove actions applied to each of its ports (Nova's security_group_api with Neutron).
import { isNeutronError, type NeutronSession } from '../../../clients/network.ts';
import { ApiError } from '../../../platform/errors.ts';
import type { ComputeContext } from '../context.ts';
import { refreshInfoCache } from '../network/allocation.ts';
import type { Server } from '../store/servers.ts';
import { formatGroups, novaGroup, sortGroups } from './security-groups-proxy.ts';

/** Nova's find_resourceid_by_name_or_id for a group in the caller's project. */
async function groupIdOf(neutron: NeutronSession, projectId: string, name: string): Promise<string> {
  const groups = await neutron.listSecurityGroups({ tenant_id: projectId, fields: ['id', 'name'] });
  const byName = groups.filter((g) => g.name === name);
  if (byName.length > 1)
    throw new ApiError(
      409,
      'NoUniqueMatch',
      `Multiple security_group matches found for name '${name}', use an ID to be more specific.`,
    );
  const g = byName[0] ?? groups.find((x) => x.id === name);
  if (!g)
    throw new ApiError(
      404,
      'SecurityGroupNotFound',
      `Security group ${name} is not found for project ${projectId}`,
    );
  return g.id;
}

/** Adds a group to every port of the server, or removes it from the ports that have it. */
export async function changePortGroups(
  cx: ComputeContext,
  neutron: NeutronSession,
  s: Server,
  name: string,
  add: boolean,
): Promise<void> {
  const projectId = s.project_id;
  const id = await groupIdOf(neutron, projectId, name);
  const ports = await neutron.listPorts({ device_id: s.id });
  if (!ports.length)
    throw new ApiError(
      404,
      'SecurityGroupNotFound',
      `instance_id ${s.id} could not be found as device id on any ports`,
    );
  let found = false;
  for (const p of ports) {
    const groups = p.security_groups ?? [];
    if (add) {
      const secured = p.port_security_enabled !== false && p.fixed_ips.length > 0;
      if (!secured)
        throw new ApiError(
          400,
          'SecurityGroupCannotBeApplied',
          'Network requires port_security_enabled and subnet associated in order to apply security groups.',
        );
      if (groups.includes(id)) continue;
      try {
        await neutron.updatePort(p.id, { security_groups: [...groups, id] });
      } catch (err) {
        if (isNeutronError(err, 400)) throw new ApiError(400, 'SecurityGroupCannotBeApplied', err.message);
        throw err;
      }
    } else {
      if (!groups.includes(id)) continue;
      await neutron.updatePort(p.id, { security_groups: groups.filter((g) => g !== id) });
      found = true;
    }
  }
  if (!add && !found)
    throw new ApiError(
      404,
      'SecurityGroupNotFound',
      `Security group ${name} not associated with the instance ${s.id}`,
    );
  await refreshInfoCache(cx, s.id);
}

/** The groups of the server's ports, one entry per port and group (as Nova lists them), sorted. */
export async function serverGroups(neutron: NeutronSession, s: Server): Promise<Record<string, unknown>[]> {
  const ports = await neutron.listPorts({ device_id: s.id });
  const ids = [...new Set(ports.flatMap((p) => p.security_groups ?? []))];
  if (!ids.length) return [];
  const groups = await neutron.listSecurityGroups({ id: ids });
  const byId = new Map(groups.map((g) => [g.id, novaGroup(g)]));
  const entries = ports.flatMap((p) => (p.security_groups ?? []).flatMap((g) => byId.get(g) ?? []));
  return sortGroups(await formatGroups(neutron, entries));
}
