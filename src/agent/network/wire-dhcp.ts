// Converges a network's DHCP namespace: the DHCP port's veth onto the bridge, dnsmasq, and the metadata haproxy.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DpNetwork, DpPort } from './desired-state.ts';
import { withPrefix } from './ip-math.ts';
import { syncAddresses } from './linux/addresses.ts';
import { processArgv, readPidFile, runningDaemon, signal, stopDaemon } from './linux/daemons.ts';
import { runIn } from './linux/exec.ts';
import { ensureVeth, linkMap, setLink } from './linux/links.ts';
import { deleteNamespace, ensureNamespace } from './linux/netns.ts';
import { BRIDGE, dhcpDevName, namespaceName, tapName } from './naming.ts';
import {
  dhcpSubnets,
  dnsmasqArgv,
  METADATA_IP,
  renderDhcpHosts,
  renderDhcpOpts,
} from './render/dnsmasq-config.ts';
import { renderHaproxyConfig } from './render/haproxy-config.ts';
import type { WireContext } from './wire-context.ts';

/** Where a network's DHCP files live. */
export function dhcpDir(stateDir: string, networkId: string): string {
  return join(stateDir, 'dhcp', networkId);
}

function filesOf(dir: string) {
  return {
    hosts: join(dir, 'hosts'),
    opts: join(dir, 'opts'),
    leases: join(dir, 'leases'),
    pid: join(dir, 'dnsmasq.pid'),
    log: join(dir, 'dnsmasq.log'),
    haproxyCfg: join(dir, 'haproxy.cfg'),
    haproxyPid: join(dir, 'haproxy.pid'),
  };
}

/** True when a network needs a DHCP namespace here: a DHCP port bound here and a served subnet. */
export function servesDhcp(network: DpNetwork, dhcpPort: DpPort | undefined): dhcpPort is DpPort {
  return !!dhcpPort && dhcpSubnets(network).length > 0;
}

/** Writes a file when its content differs; true when it did. */
async function writeIfChanged(path: string, content: string): Promise<boolean> {
  const old = await readFile(path, 'utf8').catch(() => undefined);
  if (old === content) return false;
  await writeFile(path, content, { mode: 0o644 });
  return true;
}

/** Wires the DHCP namespace (the network namespace exists); resolves once dnsmasq (and haproxy) run. */
export async function wireDhcp(
  ctx: WireContext,
  network: DpNetwork,
  dhcpPort: DpPort,
  ports: DpPort[],
): Promise<void> {
  const ns = namespaceName(ctx.prefix, 'dhcp', network.id);
  const netNs = namespaceName(ctx.prefix, 'network', network.id);
  await ensureNamespace(ns, ctx.namespaces);
  const dev = dhcpDevName(dhcpPort.id);
  const tap = tapName(dhcpPort.id);
  const links = await linkMap(ns);
  const netLinks = await linkMap(netNs);
  if (
    await ensureVeth({ ns, name: dev, mac: dhcpPort.macAddress }, { ns: netNs, name: tap }, links, netLinks)
  ) {
    links.delete(dev);
    netLinks.delete(tap);
  }
  await setLink(netNs, tap, { master: BRIDGE, mtu: network.mtu, up: true }, netLinks.get(tap));
  await setLink(ns, dev, { mtu: network.mtu, address: dhcpPort.macAddress, up: true }, links.get(dev));
  const subnets = new Map(network.subnets.map((s) => [s.id, s]));
  const addrs = dhcpPort.fixedIps.flatMap((f) => {
    const s = subnets.get(f.subnetId);
    return s ? [withPrefix(f.ipAddress, s.cidr)] : [];
  });
  if (ctx.metadataSocket) addrs.push(`${METADATA_IP}/32`);
  await syncAddresses(ns, dev, addrs);

  const dir = dhcpDir(ctx.stateDir, network.id);
  await mkdir(dir, { recursive: true });
  const f = filesOf(dir);
  const hostsChanged = await writeIfChanged(f.hosts, renderDhcpHosts(network, ports));
  const optsChanged = await writeIfChanged(f.opts, renderDhcpOpts(network, dhcpPort));
  const argv = dnsmasqArgv(network, dev, f, ctx.dhcpLeaseSeconds);
  const pid = await runningDaemon(f.pid, argv);
  if (pid === undefined) {
    await stopDaemon(f.pid, 'dnsmasq');
    await runIn(ns, argv[0] as string, argv.slice(1));
    ctx.log.info({ network_id: network.id }, 'dnsmasq started');
  } else if (hostsChanged || optsChanged) {
    signal(pid, 'SIGHUP');
  }

  if (ctx.metadataSocket) {
    const cfgChanged = await writeIfChanged(
      f.haproxyCfg,
      renderHaproxyConfig(network.id, ctx.metadataSocket, f.haproxyPid),
    );
    const hArgv = ['haproxy', '-f', f.haproxyCfg];
    if (cfgChanged || (await runningDaemon(f.haproxyPid, hArgv)) === undefined) {
      await stopDaemon(f.haproxyPid, 'haproxy');
      await runIn(ns, 'haproxy', hArgv.slice(1));
      ctx.log.info({ network_id: network.id }, 'metadata haproxy started');
    }
  } else {
    await stopDaemon(f.haproxyPid, 'haproxy');
  }
}

/**
 * Rewrites the hosts file from the state's ports and makes dnsmasq re-read it (SIGHUP) when it changed. Throws when
 * dnsmasq is not running with the expected argv (the full pass restarts it).
 */
export async function refreshDhcpHosts(ctx: WireContext, network: DpNetwork): Promise<void> {
  const f = filesOf(dhcpDir(ctx.stateDir, network.id));
  const ports = ctx.state.ports.filter((p) => p.networkId === network.id);
  if (!(await writeIfChanged(f.hosts, renderDhcpHosts(network, ports)))) return;
  const pid = await readPidFile(f.pid);
  const argv = pid ? await processArgv(pid) : undefined;
  if (!pid || argv?.[0] !== 'dnsmasq' || !signal(pid, 'SIGHUP'))
    throw new Error(`network ${network.id}: dnsmasq is not running`);
}

/** Stops the network's dnsmasq and haproxy, deletes the namespace and its files. */
export async function unwireDhcp(
  ctx: Pick<WireContext, 'prefix' | 'stateDir'>,
  networkId: string,
): Promise<void> {
  const f = filesOf(dhcpDir(ctx.stateDir, networkId));
  await stopDaemon(f.pid, 'dnsmasq');
  await stopDaemon(f.haproxyPid, 'haproxy');
  await deleteNamespace(namespaceName(ctx.prefix, 'dhcp', networkId));
  await rm(dhcpDir(ctx.stateDir, networkId), { recursive: true, force: true });
}
