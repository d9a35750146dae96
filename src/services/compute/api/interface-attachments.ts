// /servers/{id}/os-interface: a server's ports from Neutron; attach (a port, or a network with an optional
// address) hot-plugs a NIC through the host's driver and the VIF plugger; detach unplugs it and gives the port
// back (deleted when compute made it, unbound when the user brought it), as Nova's attach_interfaces API.
import type { HostQueries } from '../../../agent/compute/host-queries.ts';
import { isNeutronError, type NeutronPort } from '../../../clients/network.ts';
import { ApiError } from '../../../platform/errors.ts';
import { byVersion } from '../../../platform/http/microversion.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import type { ComputeContext } from '../context.ts';
import { ComputeErrors } from '../errors.ts';
import { deviceOwnerOf, refreshInfoCache } from '../network/allocation.ts';
import { parseVifs, tapName } from '../network/info-cache.ts';
import { availableNetworks } from '../network/requested-networks.ts';
import { finishEvent, recordAction } from '../store/actions.ts';
import type { Server } from '../store/servers.ts';
import { userNeutron } from './network-proxy-common.ts';
import { validateSchema } from './resource-common.ts';
import { interfaceAttachmentCreate } from './schemas/interface-attachments.schema.ts';
import { checkNotLocked, visibleServer } from './servers.ts';

const S = '/compute/v2.1/servers/:server_id/os-interface';
const portNotFound = (id: string) => new ApiError(404, 'PortNotFound', `Port id ${id} could not be found.`);

function view(p: NeutronPort, tag?: string | null): Record<string, unknown> {
  const v: Record<string, unknown> = {
    net_id: p.network_id,
    port_id: p.id,
    mac_addr: p.mac_address,
    port_state: p.status,
    fixed_ips: p.fixed_ips ?? null,
  };
  if (tag !== undefined) v['tag'] = tag;
  return v;
}

/** Nova's check_instance_state(vm_state=[ACTIVE, PAUSED, STOPPED], task_state=[None]). */
function checkAttachable(s: Server, method: string): void {
  if (!['active', 'paused', 'stopped'].includes(s.vm_state))
    throw ComputeErrors.invalidState(s.id, 'vm_state', s.vm_state, method);
  if (s.task_state !== null) throw ComputeErrors.invalidState(s.id, 'task_state', s.task_state, method);
}

export function interfaceAttachmentRoutes(cx: ComputeContext, hostQueries: HostQueries): Route[] {
  const load = (ctx: RouteContext, rule: string) => visibleServer(cx, ctx, ctx.params['server_id']!, rule);
  const tagOf = (s: Server, portId: string) =>
    parseVifs(s.network_info).find((v) => v.id === portId)?.tag ?? null;
  const event = async (s: Server, name: string, start: string, ok: boolean, why?: string) =>
    cx.write((trx) =>
      finishEvent(trx, {
        serverId: s.id,
        event: name,
        start,
        now: cx.nowMicro(),
        ok,
        host: s.host,
        ...(ok ? {} : { traceback: why ?? '', message: 'Error', details: why ?? '' }),
      }),
    );
  return [
    {
      method: 'GET',
      path: S,
      async handler(ctx) {
        const s = await load(ctx, 'os_compute_api:os-attach-interfaces:list');
        const neutron = userNeutron(cx, ctx, null);
        const ports = await neutron.listPorts({ device_id: s.id });
        const tags = ctx.mv!.atLeast('2.70');
        return {
          body: { interfaceAttachments: ports.map((p) => view(p, tags ? tagOf(s, p.id) : undefined)) },
        };
      },
    },
    {
      method: 'GET',
      path: `${S}/:port_id`,
      async handler(ctx) {
        const s = await load(ctx, 'os_compute_api:os-attach-interfaces:show');
        const neutron = userNeutron(cx, ctx, null);
        const id = ctx.params['port_id']!;
        const port = await neutron.showPort(id).catch((err: unknown) => {
          throw isNeutronError(err, 404) ? portNotFound(id) : err;
        });
        if (port.device_id !== s.id)
          throw new ApiError(404, 'NotFound', `Instance ${s.id} does not have a port with id ${id}`);
        return {
          body: { interfaceAttachment: view(port, ctx.mv!.atLeast('2.70') ? tagOf(s, id) : undefined) },
        };
      },
    },
    {
      method: 'POST',
      path: S,
      async handler(ctx) {
        const s = await load(ctx, 'os_compute_api:os-attach-interfaces:create');
        const neutron = userNeutron(cx, ctx, null);
        validateSchema(byVersion(ctx.mv!, interfaceAttachmentCreate), ctx.body ?? {});
        const att =
          ((ctx.body ?? {}) as { interfaceAttachment?: Record<string, unknown> }).interfaceAttachment ?? {};
        let netId = att['net_id'] as string | undefined;
        const portId = att['port_id'] as string | undefined;
        const tag = att['tag'] as string | undefined;
        const reqIp = (att['fixed_ips'] as { ip_address: string }[] | undefined)?.[0]?.ip_address;
        if (netId && portId) throw ComputeErrors.badRequest('Must not input both network_id and port_id');
        if (reqIp && !netId) throw ComputeErrors.badRequest('Must input network_id when request IP address');
        checkNotLocked(ctx, s);
        checkAttachable(s, 'attach_interface');
        const service = cx.network!.service();
        const owner = await deviceOwnerOf(cx, s);
        const binding = { device_id: s.id, device_owner: owner, 'binding:host_id': s.host ?? '' };
        let port: NeutronPort;
        if (portId) {
          port = await neutron.showPort(portId).catch((err: unknown) => {
            throw isNeutronError(err, 404) ? portNotFound(portId) : err;
          });
          if (port.device_id) throw new ApiError(409, 'PortInUse', `Port ${portId} is still in use.`);
        } else {
          if (!netId) {
            const nets = await availableNetworks(neutron, s.project_id);
            if (nets.length > 1)
              throw ComputeErrors.badRequest(
                'Multiple possible networks found, use a Network ID to be more specific.',
              );
            if (!nets.length)
              throw ComputeErrors.badRequest(
                `No specific network was requested and none are available for project '${s.project_id}'.`,
              );
            netId = nets[0]!.id;
          }
          const net = netId;
          await neutron.showNetwork(net).catch((err: unknown) => {
            throw isNeutronError(err, 404)
              ? new ApiError(404, 'NetworkNotFound', `Network ${net} could not be found.`)
              : err;
          });
          if (reqIp) {
            const used = await neutron.listPorts({ network_id: net, fixed_ips: `ip_address=${reqIp}` });
            if (used.length)
              throw new ApiError(
                409,
                'FixedIpAlreadyInUse',
                `Fixed IP address ${reqIp} is already in use on instance ${used[0]!.device_id}.`,
              );
          }
          port = undefined as unknown as NeutronPort;
        }
        const start = cx.nowMicro();
        await cx.write((trx) =>
          recordAction(trx, {
            serverId: s.id,
            action: 'attach_interface',
            requestId: ctx.requestId,
            userId: ctx.auth!.userId,
            projectId: s.project_id,
            now: start,
          }),
        );
        try {
          if (portId) port = await service.updatePort(portId, binding);
          else
            port = await service.createPort({
              network_id: netId,
              project_id: s.project_id,
              admin_state_up: true,
              ...binding,
              ...(reqIp ? { fixed_ips: [{ ip_address: reqIp }] } : {}),
            });
        } catch (err) {
          await event(s, 'compute_attach_interface', start, false, String((err as Error).message));
          if (isNeutronError(err, 'IpAddressGenerationFailure'))
            throw ComputeErrors.badRequest(`No fixed IP addresses available for network: ${netId}`);
          if (isNeutronError(err, 409)) throw new ApiError(409, 'Conflict', (err as Error).message);
          throw err;
        }
        const net = await service.showNetwork(port.network_id).catch(() => undefined);
        try {
          if (s.host && hostQueries.attachNic)
            await hostQueries.attachNic(s.host, s.id, {
              id: port.id,
              macAddress: port.mac_address,
              device: tapName(port.id),
              networkId: port.network_id,
              ...(typeof net?.mtu === 'number' ? { mtu: net.mtu } : {}),
            });
        } catch (err) {
          if (portId)
            await service.updatePort(port.id, { device_id: '', device_owner: '', 'binding:host_id': '' });
          else await service.deletePort(port.id);
          await event(s, 'compute_attach_interface', start, false, String((err as Error).message));
          throw new ApiError(
            500,
            'InterfaceAttachFailed',
            `Failed to attach network adapter device to ${s.id}`,
          );
        }
        await refreshInfoCache(cx, s.id, {
          preserve: portId ? [port.id] : [],
          ...(tag ? { tags: { [port.id]: tag } } : {}),
        });
        await event(s, 'compute_attach_interface', start, true);
        const shown = await neutron.showPort(port.id).catch(() => port);
        return {
          body: { interfaceAttachment: view(shown, ctx.mv!.atLeast('2.70') ? (tag ?? null) : undefined) },
        };
      },
    },
    {
      method: 'DELETE',
      path: `${S}/:port_id`,
      async handler(ctx) {
        const s = await load(ctx, 'os_compute_api:os-attach-interfaces:delete');
        userNeutron(cx, ctx, null);
        const id = ctx.params['port_id']!;
        checkNotLocked(ctx, s);
        checkAttachable(s, 'detach_interface');
        const vif = parseVifs(s.network_info).find((v) => v.id === id);
        if (!vif) throw portNotFound(id);
        const start = cx.nowMicro();
        await cx.write((trx) =>
          recordAction(trx, {
            serverId: s.id,
            action: 'detach_interface',
            requestId: ctx.requestId,
            userId: ctx.auth!.userId,
            projectId: s.project_id,
            now: start,
          }),
        );
        const service = cx.network!.service();
        try {
          if (s.host && hostQueries.detachNic) await hostQueries.detachNic(s.host, s.id, id);
          if (vif.preserveOnDelete)
            await service.updatePort(id, { device_id: '', device_owner: '', 'binding:host_id': '' });
          else await service.deletePort(id);
        } catch (err) {
          await event(s, 'compute_detach_interface', start, false, String((err as Error).message));
          throw err;
        }
        await refreshInfoCache(cx, s.id);
        await event(s, 'compute_detach_interface', start, true);
        return { status: 202 };
      },
    },
  ];
}
