// Loads a network namespace's filter tables (security groups, anti-spoofing) and cuts the flows a change disallows.
import type { DpPort, DpSecurityGroup } from './desired-state.ts';
import { ipVersionOf } from './ip-math.ts';
import { deleteFlows } from './linux/conntrack.ts';
import { applyTables, type TableContent } from './linux/nftables.ts';
import { setSysctls } from './linux/sysctl.ts';
import { PORTSEC_TABLE, SG_TABLE } from './naming.ts';
import { renderPortSecurityTable } from './render/port-security.ts';
import { ruleKey } from './render/sg-rules.ts';
import { filteredPorts, portAddresses, portRules, renderSecurityGroupTable } from './render/sg-table.ts';
import type { WireContext } from './wire-context.ts';

/**
 * Applies, in one `nft -f` transaction, the tables whose text changed since this agent last applied them (an
 * absent body removes the table). Unchanged tables cost nothing.
 */
export async function syncTables(ctx: WireContext, ns: string, tables: TableContent[]): Promise<void> {
  const key = (t: TableContent) => `${ns}/${t.family}/${t.name}`;
  const changed = tables.filter((t) => ctx.nftApplied.get(key(t)) !== (t.body ?? ''));
  if (!changed.length) return;
  try {
    await applyTables(ns, changed);
  } catch (err) {
    // Whatever the kernel holds now, the next pass must not trust the remembered text.
    for (const t of changed) ctx.nftApplied.delete(key(t));
    throw err;
  }
  for (const t of changed) ctx.nftApplied.set(key(t), t.body ?? '');
}

/** The security-group and anti-spoofing tables of a network for its local VM ports, loaded together. */
export async function applySecurity(ctx: WireContext, ns: string, vmPorts: DpPort[]): Promise<void> {
  const groups = new Map(ctx.state.securityGroups.map((g) => [g.id, g]));
  await syncTables(ctx, ns, [
    { family: 'inet', name: SG_TABLE, body: renderSecurityGroupTable(vmPorts, groups) },
    {
      family: 'bridge',
      name: PORTSEC_TABLE,
      body: renderPortSecurityTable(vmPorts, (p) => ctx.deviceOf(p.id)),
    },
  ]);
  await noMidStreamPickup(ctx, ns);
  await cutRemovedRules(ctx, ns, filteredPorts(vmPorts), groups);
  await cutGroupLeavers(ctx, ns, filteredPorts(vmPorts), groups);
}

/**
 * Turns off conntrack's mid-stream TCP pickup in the namespace (the host keeps its own setting). Otherwise, once a
 * removed rule's flow is cut, the VM's next packet of it would start a new egress flow, allowed, whose replies then
 * pass: the cut flow lives again. Set after the tables, whose `ct` expressions have the kernel load conntrack.
 */
async function noMidStreamPickup(ctx: WireContext, ns: string): Promise<void> {
  const key = `${ns} conntrack`;
  if (ctx.initialized.has(key)) return;
  await setSysctls(ns, { 'net.netfilter.nf_conntrack_tcp_loose': 0 });
  ctx.initialized.add(key);
}

/** Flows a removed rule had allowed are cut, as Neutron does (rules remembered per agent process). */
async function cutRemovedRules(
  ctx: WireContext,
  ns: string,
  ports: DpPort[],
  groups: Map<string, DpSecurityGroup>,
): Promise<void> {
  for (const port of ports) {
    const rules = portRules(port, groups);
    const now = new Set(rules.map(ruleKey));
    const before = ctx.ruleKeys.get(port.id);
    ctx.ruleKeys.set(port.id, now);
    if (!before) continue;
    const removed = [...before].filter((k) => !now.has(k));
    if (!removed.length) continue;
    const addrs = portAddresses(port);
    for (const k of removed) {
      const [direction, ethertype, proto, min, max, prefix] = JSON.parse(k) as [
        string,
        string,
        number | null,
        number | null,
        number | null,
        string | null,
      ];
      const v6 = ethertype === 'IPv6';
      const own = (v6 ? addrs.v6 : addrs.v4).filter((a) => !a.includes('/'));
      const remote = prefix && !prefix.includes('/') ? prefix : undefined;
      const ported = proto !== null && proto !== 1 && proto !== 58;
      for (const a of own)
        await deleteFlows(ns, {
          family: v6 ? 'ipv6' : 'ipv4',
          ...(direction === 'ingress' ? { dst: a, src: remote } : { src: a, dst: remote }),
          proto: proto === null ? undefined : String(proto),
          dport: ported && min !== null && min === max ? min : undefined,
        });
    }
    ctx.log.info({ port_id: port.id, removed: removed.length }, 'security group rules removed; flows cut');
  }
}

/** Flows between a local port and an address that left a remote group its rules reference are cut too. */
async function cutGroupLeavers(
  ctx: WireContext,
  ns: string,
  ports: DpPort[],
  groups: Map<string, DpSecurityGroup>,
): Promise<void> {
  const users = new Map<string, DpPort[]>();
  for (const p of ports)
    for (const r of portRules(p, groups))
      if (r.remoteGroupId && !r.remoteIpPrefix) {
        const list = users.get(r.remoteGroupId) ?? [];
        if (!list.includes(p)) list.push(p);
        users.set(r.remoteGroupId, list);
      }
  for (const key of ctx.groupMembers.keys())
    if (key.startsWith(`${ns} `) && !users.has(key.slice(ns.length + 1))) ctx.groupMembers.delete(key);
  for (const [gid, list] of users) {
    const now = new Set((groups.get(gid)?.memberIps ?? []).filter((a) => !a.includes('/')));
    const key = `${ns} ${gid}`;
    const before = ctx.groupMembers.get(key);
    ctx.groupMembers.set(key, now);
    if (!before) continue;
    for (const gone of before) {
      if (now.has(gone)) continue;
      const v6 = ipVersionOf(gone) === 6;
      for (const p of list) {
        const own = portAddresses(p)[v6 ? 'v6' : 'v4'].filter((a) => !a.includes('/'));
        for (const a of own) {
          const family = v6 ? 'ipv6' : 'ipv4';
          await deleteFlows(ns, { family, src: gone, dst: a });
          await deleteFlows(ns, { family, src: a, dst: gone });
        }
      }
    }
  }
}
