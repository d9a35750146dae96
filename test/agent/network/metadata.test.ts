// Metadata end to end: VM → 169.254.169.254 (haproxy in the DHCP namespace) → agent proxy → the metadata API.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { defaultGroup, dhcpPort, network, port, subnet } from './fixtures.ts';
import { dataplaneSkip, inNs, Sandbox } from './support.ts';

describe('network agent: metadata', { skip: dataplaneSkip() }, () => {
  const sb = new Sandbox();
  const net = network([subnet('10.30.0.0/24', '10.30.0.1')]);
  const sg = defaultGroup(['10.30.0.11', '10.30.0.12']);
  const known = port(net, '10.30.0.11', { securityGroupIds: [sg.id] });
  const unknown = port(net, '10.30.0.12', { securityGroupIds: [sg.id] });
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
  let api: Server;
  const vms: string[] = [];

  before(async () => {
    await sb.init();
    api = createServer((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ uuid: req.headers['x-instance-id'] }));
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    sb.cp.state = {
      networks: [net],
      ports: [known, unknown, dhcpPort(net, '10.30.0.2')],
      routers: [],
      securityGroups: [sg],
    };
    sb.cp.instances.set(`${net.id} 10.30.0.11`, { instanceId: 'inst-0001', projectId: 'proj-a' });
    const agent = sb.agent({ metadata: { url, secret: 'shh' } });
    await agent.start();
    for (const p of [known, unknown]) {
      const vm = await sb.vm(p === known ? 'known' : 'unknown', p);
      await agent.plug({ portId: p.id, device: vm.tap, networkId: net.id, macAddress: p.macAddress });
      await sb.dhcp(vm.ns);
      vms.push(vm.ns);
    }
  });
  after(async () => {
    await sb.cleanup();
    api?.close();
  });

  async function get(ns: string, path: string): Promise<{ status: number; body: string }> {
    const out = await inNs(ns, 'curl', [
      '-s',
      '-m',
      '5',
      '-H',
      'X-Forwarded-For: 10.30.0.99',
      '-H',
      'X-Instance-ID: forged',
      '-w',
      '\n%{http_code}',
      `http://169.254.169.254${path}`,
    ]);
    const i = out.lastIndexOf('\n');
    return { status: Number(out.slice(i + 1)), body: out.slice(0, i) };
  }

  it('forwards a VM’s request with its instance id, project and a valid signature', async () => {
    const r = await get(vms[0]!, '/openstack/latest/meta_data.json');
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { uuid: 'inst-0001' });
    const h = seen.at(-1)!;
    assert.equal(h.url, '/openstack/latest/meta_data.json');
    assert.equal(h.headers['x-instance-id'], 'inst-0001');
    assert.equal(h.headers['x-tenant-id'], 'proj-a');
    assert.equal(h.headers['x-forwarded-for'], '10.30.0.11', 'the VM’s own address, not the forged one');
    assert.equal(
      h.headers['x-instance-id-signature'],
      createHmac('sha256', 'shh').update('inst-0001').digest('hex'),
    );
    assert.equal(h.headers['x-neutron-network-id'], undefined, 'internal headers are not passed on');
  });

  it('answers 404 to an address no instance owns', async () => {
    const before = seen.length;
    const r = await get(vms[1]!, '/latest/meta-data/');
    assert.equal(r.status, 404);
    assert.equal(seen.length, before, 'the metadata API was not called');
  });
});
