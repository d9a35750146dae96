// Acceptance: Debian's python3-openstackclient against a real `monostack up` (fake data plane), for networking:
// network, subnet, port, router, floating IP and security group create, show, set, delete; the first-use
// networks (`public`, `private`, `router1`) are there.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type ProcessCloud, startProcessCloud } from '../support/process-cloud.ts';

const run = promisify(execFile);
const OPENSTACK = '/usr/bin/openstack';
const skip = existsSync(OPENSTACK) ? false : `not installed: ${OPENSTACK} (scripts/install.sh installs it)`;

describe('openstack CLI acceptance (network)', { skip: process.env['CI'] === 'true' ? false : skip }, () => {
  let cloud: ProcessCloud;
  before(async () => {
    cloud = await startProcessCloud();
  });
  after(async () => {
    await cloud?.stop();
  });

  const os = async (...args: string[]): Promise<string> => {
    try {
      const { stdout } = await run(OPENSTACK, ['--os-cloud', 'monostack', ...args], {
        env: { ...process.env, OS_CLIENT_CONFIG_FILE: cloud.cloudsYaml, PATH: '/usr/bin:/bin' },
        timeout: 120_000,
      });
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string };
      throw new Error(`openstack ${args.join(' ')} failed:\n${e.stderr ?? ''}${e.stdout ?? ''}`);
    }
  };
  const json = async (...args: string[]) => JSON.parse(await os(...args, '-f', 'json'));

  it('the first-use networks exist: public (external) and the demo project’s private network and router', async () => {
    const nets = (await json('network', 'list', '--external')) as { Name: string }[];
    assert.ok(
      nets.some((n) => n.Name === 'public'),
      JSON.stringify(nets),
    );
    const all = (await json('network', 'list')) as { Name: string }[];
    assert.ok(
      all.some((n) => n.Name === 'private'),
      JSON.stringify(all),
    );
    const routers = (await json('router', 'list')) as { Name: string }[];
    assert.ok(
      routers.some((r) => r.Name === 'router1'),
      JSON.stringify(routers),
    );
  });

  it('network, subnet, port, router, floating IP, security group: create, show, set, delete', async () => {
    const net = await json('network', 'create', 'cli-net');
    assert.equal(net.name, 'cli-net');
    await os('network', 'set', '--name', 'cli-net2', '--description', 'd', 'cli-net');
    assert.equal((await json('network', 'show', 'cli-net2')).description, 'd');

    const subnet = await json(
      'subnet',
      'create',
      '--network',
      'cli-net2',
      '--subnet-range',
      '192.0.2.0/24',
      'cli-sub',
    );
    assert.equal(subnet.cidr, '192.0.2.0/24');
    assert.equal(subnet.gateway_ip, '192.0.2.1');
    await os('subnet', 'set', '--dns-nameserver', '198.51.100.53', 'cli-sub');
    assert.deepEqual((await json('subnet', 'show', 'cli-sub')).dns_nameservers, ['198.51.100.53']);

    const port = await json(
      'port',
      'create',
      '--network',
      'cli-net2',
      '--fixed-ip',
      'subnet=cli-sub,ip-address=192.0.2.50',
      'cli-port',
    );
    assert.equal(port.fixed_ips[0].ip_address, '192.0.2.50');
    await os('port', 'set', '--name', 'cli-port2', 'cli-port');
    assert.equal((await json('port', 'show', 'cli-port2')).name, 'cli-port2');

    const sg = await json('security', 'group', 'create', 'cli-sg');
    assert.equal(sg.name, 'cli-sg');
    const rule = await json(
      'security',
      'group',
      'rule',
      'create',
      '--protocol',
      'tcp',
      '--dst-port',
      '22',
      'cli-sg',
    );
    assert.equal(rule.port_range_min, 22);
    await os('security', 'group', 'set', '--description', 'ssh', 'cli-sg');
    assert.equal((await json('security', 'group', 'show', 'cli-sg')).description, 'ssh');
    await os('port', 'set', '--security-group', 'cli-sg', 'cli-port2');

    const router = await json('router', 'create', 'cli-router');
    assert.equal(router.name, 'cli-router');
    await os('router', 'set', '--external-gateway', 'public', 'cli-router');
    await os('router', 'add', 'subnet', 'cli-router', 'cli-sub');
    const shown = await json('router', 'show', 'cli-router');
    assert.ok(shown.external_gateway_info, JSON.stringify(shown));

    const fip = await json('floating', 'ip', 'create', '--port', 'cli-port2', 'public');
    assert.equal(fip.fixed_ip_address, '192.0.2.50');
    await os('floating', 'ip', 'unset', '--port', fip.floating_ip_address);
    assert.equal((await json('floating', 'ip', 'show', fip.floating_ip_address)).port_id, null);
    await os('floating', 'ip', 'delete', fip.floating_ip_address);

    await os('router', 'remove', 'subnet', 'cli-router', 'cli-sub');
    await os('router', 'delete', 'cli-router');
    await os('port', 'delete', 'cli-port2');
    await os('security', 'group', 'rule', 'delete', rule.id);
    await os('security', 'group', 'delete', 'cli-sg');
    await os('subnet', 'delete', 'cli-sub');
    await os('network', 'delete', 'cli-net2');
    const left = (await json('network', 'list')) as { Name: string }[];
    assert.ok(!left.some((n) => n.Name === 'cli-net2'));
  });
});
