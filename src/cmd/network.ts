// `monostack network teardown`: removes the network data plane a stopped cloud left on this host. It outlives the
// process by design (guests keep their network across a restart); this is for taking a cloud off the host for good.
import { hostname } from 'node:os';
import type { NetworkControlPlane } from '../agent/network/control-plane.ts';
import { LinuxNetworkAgent } from '../agent/network/network-agent.ts';
import { configFrom, type ManageFlags, runningCloud } from './manage.ts';

/** A control plane that wants nothing: the agent only tears down. */
const nothingWanted: NetworkControlPlane = {
  desiredState: async () => ({ networks: [], ports: [], routers: [], securityGroups: [] }),
  setPortStatus: async () => {},
  watch: () => () => {},
  metadataInstance: async () => undefined,
};

export async function runNetworkTeardown(flags: ManageFlags): Promise<number> {
  const config = configFrom(flags);
  const running = await runningCloud(config.data_dir);
  if (running) {
    process.stderr.write(
      `the cloud of ${config.data_dir} is running (pid ${running.pid}): stop it first, or its agent rewires everything\n`,
    );
    return 1;
  }
  await new LinuxNetworkAgent({
    host: hostname(),
    controlPlane: nothingWanted,
    prefix: config.network.prefix,
    stateDir: config.network.state_dir,
    physicalNetworks: config.network.physical_networks,
  }).teardown();
  process.stdout.write(
    `removed the network data plane of ${config.data_dir} (namespaces, uplinks, dnsmasq and haproxy named ${config.network.prefix}…)\n`,
  );
  return 0;
}
