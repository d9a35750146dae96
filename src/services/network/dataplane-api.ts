// The network service's side of the host agents' seam (NetworkControlPlane): each host's desired state computed
// from the tables, port status reports (which send Nova its vif events), change notification from the feed, and
// the metadata proxy's instance lookup.

import type { Selectable } from 'kysely';
import type { NetworkControlPlane } from '../../agent/network/control-plane.ts';
import type {
  DpNetwork,
  DpPort,
  DpRouter,
  DpRouterPort,
  DpSecurityGroup,
  HostNetworkState,
  Ipv6Mode,
} from '../../agent/network/desired-state.ts';
import type { NetworkContext } from './context.ts';
import { AGENT_KINDS, agentAlive } from './domain/agents.ts';
import { loadHosting } from './domain/hosting.ts';
import { type PortWithAddresses, portsOfNetworks, setPortStatus } from './domain/port-status.ts';
import { compiled } from './store/compiled.ts';
import type { RoutersTable } from './store/tables-l3.ts';

/** Ports still waiting to go ACTIVE (what the fake data plane reads on each pass). */
const pendingPorts = compiled(0, (db) =>
  db
    .selectFrom('network_ports')
    .selectAll()
    .where('status', '!=', 'ACTIVE')
    .where('admin_state_up', '=', 1)
    .where((eb) =>
      eb.or([
        // 'compute:' ≤ owner < 'compute;' is the prefix match as an index range (LIKE with a bound pattern is not).
        eb.and([
          eb('device_owner', '>=', 'compute:'),
          eb('device_owner', '<', 'compute;'),
          eb('host_id', '!=', ''),
        ]),
        eb('device_owner', 'in', ['network:dhcp', 'network:router_interface', 'network:router_gateway']),
      ]),
    ),
);

/**
 * Which networks a host wires: those of the VM ports bound to it, those whose DHCP it serves and those its routers
 * have ports on (domain/hosting.ts picks the DHCP and L3 host among the live agents). Host '*' (the fake data plane
 * of a process presenting many fake hosts) stands for every host.
 */
export class ServiceControlPlane implements NetworkControlPlane {
  readonly #cx: NetworkContext;
  readonly #pendingOnly: boolean;

  /** `pendingOnly`: for the fake data plane, whose passes only need the ports not ACTIVE yet. */
  constructor(cx: NetworkContext, opts: { pendingOnly?: boolean } = {}) {
    this.#cx = cx;
    this.#pendingOnly = opts.pendingOnly ?? false;
  }

  async desiredState(host: string): Promise<HostNetworkState> {
    if (this.#pendingOnly) return this.#pendingState();
    const cx = this.#cx;
    const db = cx.db;
    const all = host === '*';
    const hosting = await loadHosting(cx, host);
    const dhcpHere = (networkId: string) => all || hosting.dhcpHost(networkId) === host;
    // The networks this host wires: those of its VM ports, those it serves DHCP for, those of its routers' ports.
    const [routerRows, vmNets, dhcpNets] = await Promise.all([
      db.selectFrom('network_routers').selectAll().execute(),
      db
        .selectFrom('network_ports')
        .select('network_id')
        .distinct()
        .where('device_owner', 'like', 'compute:%')
        .where('host_id', all ? '!=' : '=', all ? '' : host)
        .execute(),
      db
        .selectFrom('network_ports')
        .select('network_id')
        .distinct()
        .where('device_owner', '=', 'network:dhcp')
        .execute(),
    ]);
    const routersHere = routerRows.filter((r) => all || hosting.l3Host(r.id) === host);
    const routerNets =
      routersHere.length === 0
        ? []
        : await db
            .selectFrom('network_router_ports')
            .innerJoin('network_ports', 'network_ports.id', 'network_router_ports.port_id')
            .select('network_ports.network_id as network_id')
            .distinct()
            .where(
              'network_router_ports.router_id',
              'in',
              routersHere.map((r) => r.id),
            )
            .execute();
    const netIds = [
      ...new Set([
        ...vmNets.map((r) => r.network_id),
        ...dhcpNets.map((r) => r.network_id).filter(dhcpHere),
        ...routerNets.map((r) => r.network_id),
      ]),
    ];
    if (netIds.length === 0) return { networks: [], ports: [], routers: [], securityGroups: [] };
    const [nets, subnets, ports, peers] = await Promise.all([
      db.selectFrom('network_networks').selectAll().where('id', 'in', netIds).execute(),
      db.selectFrom('network_subnets').selectAll().where('network_id', 'in', netIds).execute(),
      portsOfNetworks(cx, netIds),
      this.#vxlanPeers(host),
    ]);
    const networks: DpNetwork[] = nets.map((n) => ({
      id: n.id,
      mtu: n.mtu,
      type: n.network_type as DpNetwork['type'],
      ...(n.segmentation_id !== null ? { segmentationId: n.segmentation_id } : {}),
      ...(n.physical_network ? { physicalNetwork: n.physical_network } : {}),
      external: n.router_external === 1,
      ...(n.network_type === 'vxlan' ? { vxlanPeers: peers } : {}),
      subnets: subnets
        .filter((s) => s.network_id === n.id)
        .map((s) => ({
          id: s.id,
          cidr: s.cidr,
          ipVersion: s.ip_version === 6 ? 6 : 4,
          ...(s.gateway_ip ? { gatewayIp: s.gateway_ip } : {}),
          enableDhcp: s.enable_dhcp === 1,
          dnsNameservers: JSON.parse(s.dns_nameservers) as string[],
          hostRoutes: JSON.parse(s.host_routes) as { destination: string; nexthop: string }[],
          ...(s.ipv6_ra_mode ? { ipv6RaMode: s.ipv6_ra_mode as Ipv6Mode } : {}),
          ...(s.ipv6_address_mode ? { ipv6AddressMode: s.ipv6_address_mode as Ipv6Mode } : {}),
        })),
    }));
    const dpPorts: DpPort[] = ports.map((p) => toDpPort(p, host, dhcpHere(p.port.network_id)));
    const routers = await this.#routers(routersHere, ports, subnets);
    const securityGroups = await this.#securityGroups(dpPorts);
    return { networks, ports: dpPorts, routers, securityGroups };
  }

  /**
   * The VXLAN underlay addresses of the other hosts (their live Linux bridge agents' tunneling_ip): without L2
   * population, a host floods to all the others. Empty on a single host, and for host '*'.
   */
  async #vxlanPeers(host: string): Promise<string[]> {
    if (host === '*') return [];
    const agents = await this.#cx.db
      .selectFrom('network_agents')
      .select(['host', 'configurations', 'heartbeat_timestamp', 'admin_state_up'])
      .where('agent_type', '=', AGENT_KINDS['neutron-linuxbridge-agent'].type)
      .where('host', '!=', host)
      .execute();
    const peers = new Set<string>();
    for (const a of agents) {
      if (!agentAlive(this.#cx, a)) continue;
      let conf: unknown;
      try {
        conf = JSON.parse(a.configurations);
      } catch {
        continue;
      }
      const ip = (conf as { tunneling_ip?: unknown } | null)?.tunneling_ip;
      if (typeof ip === 'string' && ip) peers.add(ip);
    }
    return [...peers].sort();
  }

  async #routers(
    routers: Selectable<RoutersTable>[],
    ports: PortWithAddresses[],
    subnets: { id: string; cidr: string; gateway_ip: string | null }[],
  ): Promise<DpRouter[]> {
    const db = this.#cx.db;
    if (routers.length === 0) return [];
    const [links, routes, fips, pfs] = await Promise.all([
      db.selectFrom('network_router_ports').selectAll().execute(),
      db.selectFrom('network_router_routes').selectAll().execute(),
      db.selectFrom('network_floatingips').selectAll().where('fixed_port_id', 'is not', null).execute(),
      db
        .selectFrom('network_port_forwardings')
        .innerJoin('network_floatingips', 'network_floatingips.id', 'network_port_forwardings.floatingip_id')
        .select([
          'network_floatingips.router_id as router_id',
          'network_floatingips.floating_ip_address as fip',
          'network_port_forwardings.protocol as protocol',
          'network_port_forwardings.external_port as external_port',
          'network_port_forwardings.internal_ip_address as internal_ip',
          'network_port_forwardings.internal_port as internal_port',
        ])
        .execute(),
    ]);
    const byPort = new Map(ports.map((p) => [p.port.id, p]));
    const subnetById = new Map(subnets.map((s) => [s.id, s]));
    const routerPort = (portId: string): DpRouterPort | undefined => {
      const p = byPort.get(portId);
      if (!p) return undefined;
      return {
        portId,
        networkId: p.port.network_id,
        macAddress: p.port.mac_address,
        ips: p.fixedIps.map((ip) => ({
          ipAddress: ip.ipAddress,
          cidr: subnetById.get(ip.subnetId)?.cidr ?? `${ip.ipAddress}/32`,
        })),
      };
    };
    return routers.map((r) => {
      const gw = r.gw_port_id ? routerPort(r.gw_port_id) : undefined;
      // The default route goes via the external subnet's gateway, an IPv4 one first (the NAT is IPv4).
      const gwSubnets = gw
        ? (byPort.get(gw.portId)?.fixedIps ?? [])
            .map((ip) => subnetById.get(ip.subnetId))
            .filter((s) => s?.gateway_ip)
        : [];
      const gwSubnet = gwSubnets.find((s) => !s?.cidr.includes(':')) ?? gwSubnets[0];
      const interfaces = links
        .filter((l) => l.router_id === r.id && l.port_id !== r.gw_port_id)
        .map((l) => routerPort(l.port_id))
        .filter((x): x is DpRouterPort => x !== undefined);
      return {
        id: r.id,
        adminStateUp: r.admin_state_up === 1,
        ...(gw
          ? {
              gateway: {
                ...gw,
                enableSnat: r.enable_snat === 1,
                ...(gwSubnet?.gateway_ip ? { gatewayIp: gwSubnet.gateway_ip } : {}),
              },
            }
          : {}),
        interfaces,
        routes: routes
          .filter((x) => x.router_id === r.id)
          .map((x) => ({ destination: x.destination, nexthop: x.nexthop })),
        floatingIps: fips
          .filter((f) => f.router_id === r.id && f.fixed_ip_address)
          .map((f) => ({
            id: f.id,
            floatingIpAddress: f.floating_ip_address,
            fixedIpAddress: f.fixed_ip_address!,
            portId: f.fixed_port_id!,
          })),
        portForwardings: pfs
          .filter((p) => p.router_id === r.id)
          .map((p) => ({
            floatingIpAddress: p.fip,
            protocol: p.protocol === 'udp' ? 'udp' : 'tcp',
            externalPort: p.external_port,
            internalIpAddress: p.internal_ip,
            internalPort: p.internal_port,
          })),
      };
    });
  }

  async #securityGroups(ports: DpPort[]): Promise<DpSecurityGroup[]> {
    const db = this.#cx.db;
    const wanted = new Set(ports.filter((p) => p.boundHere).flatMap((p) => p.securityGroupIds));
    if (wanted.size === 0) return [];
    const rules = await db
      .selectFrom('network_security_group_rules')
      .selectAll()
      .where('security_group_id', 'in', [...wanted])
      .execute();
    // Remote groups need their members' addresses too.
    const all = new Set([...wanted, ...rules.map((r) => r.remote_group_id).filter((g): g is string => !!g)]);
    const groups = await db
      .selectFrom('network_security_groups')
      .select(['id', 'stateful'])
      .where('id', 'in', [...all])
      .execute();
    const stateless = new Set(groups.filter((g) => g.stateful === 0).map((g) => g.id));
    const members = await db
      .selectFrom('network_port_security_groups')
      .innerJoin(
        'network_ip_allocations',
        'network_ip_allocations.port_id',
        'network_port_security_groups.port_id',
      )
      .select([
        'network_port_security_groups.security_group_id as sg',
        'network_ip_allocations.ip_address as ip',
      ])
      .where('network_port_security_groups.security_group_id', 'in', [...all])
      .execute();
    const pairs = await db
      .selectFrom('network_port_security_groups')
      .innerJoin('network_ports', 'network_ports.id', 'network_port_security_groups.port_id')
      .select([
        'network_port_security_groups.security_group_id as sg',
        'network_ports.allowed_address_pairs as pairs',
      ])
      .where('network_port_security_groups.security_group_id', 'in', [...all])
      .where('network_ports.allowed_address_pairs', '!=', '[]')
      .execute();
    const ips = new Map<string, Set<string>>();
    const add = (sg: string, ip: string) => {
      const s = ips.get(sg) ?? new Set<string>();
      ips.set(sg, s);
      s.add(ip);
    };
    for (const m of members) add(m.sg, m.ip);
    for (const p of pairs)
      for (const pair of JSON.parse(p.pairs) as { ip_address: string }[]) add(p.sg, pair.ip_address);
    return [...all].map((id) => ({
      id,
      stateful: !stateless.has(id),
      rules: rules
        .filter((r) => r.security_group_id === id)
        .map((r) => ({
          id: r.id,
          direction: r.direction === 'egress' ? 'egress' : 'ingress',
          ethertype: r.ethertype === 'IPv6' ? 'IPv6' : 'IPv4',
          ...(r.protocol ? { protocol: r.protocol } : {}),
          ...(r.port_range_min !== null ? { portRangeMin: r.port_range_min } : {}),
          ...(r.port_range_max !== null ? { portRangeMax: r.port_range_max } : {}),
          ...(r.remote_ip_prefix ? { remoteIpPrefix: r.remote_ip_prefix } : {}),
          ...(r.remote_group_id ? { remoteGroupId: r.remote_group_id } : {}),
        })),
      memberIps: [...(ips.get(id) ?? [])],
    }));
  }

  /**
   * The fake data plane (`pendingOnly`) only turns ports ACTIVE: it gets just the ports still waiting for that (bound VM
   * ports, DHCP and router ports not ACTIVE yet), so a pass costs one indexed query however many ports exist.
   */
  async #pendingState(): Promise<HostNetworkState> {
    const rows = await pendingPorts(this.#cx.db);
    const ports: DpPort[] = rows.map((port) => ({
      id: port.id,
      networkId: port.network_id,
      macAddress: port.mac_address,
      fixedIps: [],
      deviceOwner: port.device_owner,
      deviceId: port.device_id,
      adminStateUp: true,
      portSecurityEnabled: port.port_security_enabled === 1,
      securityGroupIds: [],
      allowedAddressPairs: [],
      boundHere: true,
    }));
    return { networks: [], ports, routers: [], securityGroups: [] };
  }

  async setPortStatus(updates: { portId: string; status: 'ACTIVE' | 'DOWN' }[]): Promise<void> {
    for (const u of updates) await setPortStatus(this.#cx, u.portId, u.status);
  }

  watch(onChange: () => void): () => void {
    return this.#cx.feed.subscribe((e) => e.service === 'network', onChange);
  }

  async metadataInstance(
    networkId: string,
    ipAddress: string,
  ): Promise<{ instanceId: string; projectId: string } | undefined> {
    const row = await this.#cx.db
      .selectFrom('network_ip_allocations')
      .innerJoin('network_ports', 'network_ports.id', 'network_ip_allocations.port_id')
      .select([
        'network_ports.device_id as device_id',
        'network_ports.device_owner as owner',
        'network_ports.project_id as project_id',
      ])
      .where('network_ip_allocations.network_id', '=', networkId)
      .where('network_ip_allocations.ip_address', '=', ipAddress)
      .executeTakeFirst();
    if (!row?.owner.startsWith('compute:') || !row.device_id) return undefined;
    return { instanceId: row.device_id, projectId: row.project_id };
  }
}

/** `dhcpHere`: this host serves the port's network's DHCP (its DHCP port is then bound here). */
function toDpPort(p: PortWithAddresses, host: string, dhcpHere: boolean): DpPort {
  const port = p.port;
  const isVm = port.device_owner.startsWith('compute:');
  return {
    id: port.id,
    networkId: port.network_id,
    macAddress: port.mac_address,
    fixedIps: p.fixedIps.map((ip) => ({ subnetId: ip.subnetId, ipAddress: ip.ipAddress })),
    deviceOwner: port.device_owner,
    deviceId: port.device_id,
    adminStateUp: port.admin_state_up === 1,
    portSecurityEnabled: port.port_security_enabled === 1,
    securityGroupIds: p.securityGroups,
    allowedAddressPairs: p.allowedAddressPairs.map((a) => ({
      ipAddress: a.ip_address,
      ...(a.mac_address ? { macAddress: a.mac_address } : {}),
    })),
    boundHere:
      (isVm && (host === '*' ? port.host_id !== '' : port.host_id === host)) ||
      (port.device_owner === 'network:dhcp' && dhcpHere),
  };
}
