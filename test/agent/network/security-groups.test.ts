// Security groups on live flows: removing a rule cuts the flows it allowed (conntrack), others keep going.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultGroup, dhcpPort, network, port, rule, subnet } from './fixtures.ts';
import { dataplaneSkip, Sandbox } from './support.ts';

describe('network agent: security group changes on established flows', { skip: dataplaneSkip() }, () => {
  const sb = new Sandbox();
  const net = network([subnet('10.20.0.0/24', '10.20.0.1')]);
  const client = defaultGroup(['10.20.0.12']);
  // The client takes any TCP from the server, as an unfiltered peer (a router, the outside world) would.
  client.rules.push(rule({ protocol: 'tcp', remoteIpPrefix: '10.20.0.11/32' }));
  const server = defaultGroup(['10.20.0.11']);
  const r9000 = rule({
    protocol: 'tcp',
    portRangeMin: 9000,
    portRangeMax: 9000,
    remoteIpPrefix: '10.20.0.12/32',
  });
  const r9001 = rule({ protocol: '6', portRangeMin: 9001, portRangeMax: 9001, remoteGroupId: client.id });
  const r9002 = rule({
    protocol: 'tcp',
    portRangeMin: 9002,
    portRangeMax: 9002,
    remoteIpPrefix: '10.20.0.12/32',
  });
  server.rules.push(r9000, r9001, r9002);
  const s = port(net, '10.20.0.11', { securityGroupIds: [server.id] });
  const c = port(net, '10.20.0.12', { securityGroupIds: [client.id] });
  let sNs = '';
  let cNs = '';

  before(async () => {
    await sb.init();
    sb.cp.state = {
      networks: [net],
      ports: [s, c, dhcpPort(net, '10.20.0.2')],
      routers: [],
      securityGroups: [client, server],
    };
    const agent = sb.agent();
    await agent.start();
    for (const [p, set] of [
      [
        s,
        (n: string) => {
          sNs = n;
        },
      ],
      [
        c,
        (n: string) => {
          cNs = n;
        },
      ],
    ] as const) {
      const vm = await sb.vm(p === s ? 'server' : 'client', p);
      await agent.plug({ portId: p.id, device: vm.tap, networkId: net.id, macAddress: p.macAddress });
      await sb.dhcp(vm.ns);
      set(vm.ns);
    }
    for (const port of [9000, 9001]) await sb.tcpServer(sNs, port);
    // A server that talks first: it sends a tick every 200 ms, whatever the client says.
    await sb.tcpServer(sNs, 9002, 'tick; while sleep 0.2; do echo tick; done');
  });
  after(() => sb.cleanup());

  /** An interactive echo session from the client; say() resolves with the echo or undefined after a timeout. */
  function session(portNo: number) {
    const p = sb.spawnIn(cNs, 'socat', ['-', `TCP:10.20.0.11:${portNo}`]);
    let buf = '';
    p.stdout?.on('data', (b: Buffer) => {
      buf += b.toString();
    });
    return {
      async say(word: string, timeoutMs = 1500): Promise<string | undefined> {
        buf = '';
        p.stdin?.write(`${word}\n`);
        const end = Date.now() + timeoutMs;
        while (Date.now() < end) {
          if (buf.includes(word)) return word;
          await sleep(20);
        }
        return undefined;
      },
      async close() {
        p.stdin?.end();
        if (p.exitCode === null) {
          p.kill();
          await once(p, 'exit');
        }
      },
    };
  }

  it('cuts an established flow when its rule goes and keeps the flows other rules allow', async () => {
    const cut = session(9000);
    const kept = session(9001);
    assert.equal(await cut.say('one'), 'one', 'the rule allows the first flow');
    assert.equal(await kept.say('uno'), 'uno', 'the remote-group rule allows the second flow');

    server.rules = server.rules.filter((r) => r.id !== r9000.id);
    sb.cp.state.securityGroups = [client, server];
    assert.deepEqual((await sb.agents[0]!.reconcile()).errors, []);

    assert.equal(await cut.say('two'), undefined, 'the established flow on 9000 is cut');
    assert.equal(await kept.say('dos'), 'dos', 'the flow on 9001 goes on');
    const fresh = session(9000);
    assert.equal(await fresh.say('three', 1000), undefined, 'new connections to 9000 are refused');
    await Promise.all([cut.close(), kept.close(), fresh.close()]);

    server.rules.push(r9000);
    await sb.agents[0]!.reconcile();
    const again = session(9000);
    assert.equal(await again.say('four'), 'four', 'adding the rule back opens the port again');
    await again.close();
  });

  it('keeps a cut flow cut when the VM side sends first (no mid-stream pickup by conntrack)', async () => {
    const p = sb.spawnIn(cNs, 'socat', ['-u', 'TCP:10.20.0.11:9002', '-']);
    let ticks = 0;
    p.stdout?.on('data', (b: Buffer) => {
      ticks += b.toString().split('tick').length - 1;
    });
    try {
      const deadline = Date.now() + 5000;
      while (ticks < 2 && Date.now() < deadline) await sleep(50);
      assert.ok(ticks >= 2, 'the server ticks to the client while its rule holds');
      server.rules = server.rules.filter((r) => r.id !== r9002.id);
      sb.cp.state.securityGroups = [client, server];
      assert.deepEqual((await sb.agents[0]!.reconcile()).errors, []);
      await sleep(400); // a tick already past the filter may still land
      ticks = 0;
      await sleep(1500);
      // With the kernel's default tcp_loose pickup, the server's next tick would start a new (egress, allowed)
      // conntrack entry and the client's answers would pass as its replies: the cut flow would live again.
      assert.equal(ticks, 0, 'the ticks stop: mid-stream packets from the server do not reopen the flow');
    } finally {
      if (p.exitCode === null) {
        p.kill();
        await once(p, 'exit');
      }
    }
  });

  it('cuts the flows of an address that leaves a remote group', async () => {
    const viaGroup = session(9001);
    assert.equal(await viaGroup.say('cinco'), 'cinco');
    client.memberIps = [];
    sb.cp.state.securityGroups = [client, server];
    assert.deepEqual((await sb.agents[0]!.reconcile()).errors, []);
    assert.equal(await viaGroup.say('seis'), undefined, 'the client is no longer a member: its flow is cut');
    await viaGroup.close();
  });
  it('cuts the flows of a rule removed while the agent was down, once it is back', async () => {
    const flow = session(9000);
    assert.equal(await flow.say('siete'), 'siete');
    await sb.agents[0]!.stop();
    server.rules = server.rules.filter((r) => r.id !== r9000.id);
    sb.cp.state.securityGroups = [client, server];
    const restarted = sb.agent();
    await restarted.start();
    assert.equal(
      await flow.say('ocho'),
      undefined,
      'the restarted agent remembered the rule and cut its flow',
    );
    await flow.close();
  });
});
