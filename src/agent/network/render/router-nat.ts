// A router namespace's NAT table (table ip monostack-nat): SNAT of its subnets, floating IPs, port forwardings.
import type { DpRouter } from '../desired-state.ts';
import { ipVersionOf } from '../ip-math.ts';

/** The IPv4 address of the router's gateway port, if any. */
export function gatewayIpv4(router: DpRouter): string | undefined {
  return router.gateway?.ips.find((i) => ipVersionOf(i.ipAddress) === 4)?.ipAddress;
}

/** The extra /32 addresses the gateway device holds so the router answers ARP for them. */
export function floatingAddresses(router: DpRouter): string[] {
  return [
    ...new Set([
      ...router.floatingIps.map((f) => f.floatingIpAddress),
      ...router.portForwardings.map((p) => p.floatingIpAddress),
    ]),
  ].filter((a) => ipVersionOf(a) === 4);
}

/**
 * The body of the NAT table; undefined when the router has no IPv4 gateway (nothing to translate).
 * `gwDevice` is the gateway device name. Internal traffic between the router's own subnets is never translated;
 * DNATed traffic that did not come in from outside (an internal VM reaching a floating IP) is SNATed to the
 * gateway address so the reply comes back through the router.
 */
export function renderRouterNat(router: DpRouter, gwDevice: string): string | undefined {
  const gw = gatewayIpv4(router);
  if (!router.gateway || !gw) return undefined;
  const dnat: string[] = [];
  const snat: string[] = [];
  for (const f of [...router.floatingIps].sort((a, b) =>
    a.floatingIpAddress.localeCompare(b.floatingIpAddress),
  )) {
    if (ipVersionOf(f.floatingIpAddress) !== 4) continue;
    dnat.push(`ip daddr ${f.floatingIpAddress} dnat to ${f.fixedIpAddress}`);
    snat.push(`ip saddr ${f.fixedIpAddress} oifname "${gwDevice}" snat to ${f.floatingIpAddress}`);
  }
  for (const pf of router.portForwardings)
    dnat.push(
      `ip daddr ${pf.floatingIpAddress} ${pf.protocol} dport ${pf.externalPort} dnat to ${pf.internalIpAddress}:${pf.internalPort}`,
    );
  if (router.gateway.enableSnat) {
    const cidrs = new Set(
      router.interfaces.flatMap((i) => i.ips.map((x) => x.cidr)).filter((c) => ipVersionOf(c) === 4),
    );
    for (const c of [...cidrs].sort()) snat.push(`ip saddr ${c} oifname "${gwDevice}" snat to ${gw}`);
  }
  snat.push(`iifname != "${gwDevice}" ct status dnat snat to ${gw}`);
  const chain = (name: string, hook: string, prio: string, rules: string[]) =>
    `  chain ${name} {\n    type nat hook ${hook} priority ${prio}; policy accept;\n` +
    rules.map((r) => `    ${r}\n`).join('') +
    '  }\n';
  return (
    chain('prerouting', 'prerouting', 'dstnat', dnat) +
    chain('output', 'output', '-100', dnat) +
    chain('postrouting', 'postrouting', 'srcnat', snat)
  );
}
