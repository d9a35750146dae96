// os-security-groups and os-security-group-rules served from Neutron (≤2.35), a server's groups from its
// ports, and addSecurityGroup / removeSecurityGroup applied to the ports.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestCloud, TestUser } from '../../support/cloud.ts';
import { expectFault, nova } from './compute-support.ts';
import { bootServer, makeNetwork, ports, startNeutronCloud, uploadTestImage } from './neutron-support.ts';

let tc: TestCloud;
let user: TestUser;
let imageId: string;

before(async () => {
  tc = await startNeutronCloud();
  imageId = await uploadTestImage(tc);
  user = await tc.makeUser();
});
after(async () => {
  await tc.close();
});

const sg = (method: string, path: string, body?: unknown, mv?: string) =>
  nova(tc, method, path, { token: user.token, body, ...(mv ? { mv } : {}) });

describe('os-security-groups through Neutron', () => {
  test('create, show, list, update, delete in Nova shapes; the group is Neutron’s', async () => {
    const c = await sg('POST', '/os-security-groups', {
      security_group: { name: 'web', description: 'http' },
    });
    assert.equal(c.status, 200, c.text);
    const g = c.body.security_group;
    assert.deepEqual(Object.keys(g).sort(), ['description', 'id', 'name', 'rules', 'tenant_id']);
    assert.equal(g.name, 'web');
    assert.equal(g.tenant_id, user.projectId);
    assert.deepEqual(g.rules, []);
    const n = await tc.request('GET', `/network/v2.0/security-groups/${g.id}`, { token: user.token });
    assert.equal(n.body.security_group.name, 'web');
    assert.equal((await sg('GET', `/os-security-groups/${g.id}`)).body.security_group.description, 'http');
    const list = await sg('GET', '/os-security-groups');
    assert.deepEqual(
      list.body.security_groups.map((x: { name: string }) => x.name),
      ['default', 'web'],
    );
    const u = await sg('PUT', `/os-security-groups/${g.id}`, {
      security_group: { name: 'www', description: 'd' },
    });
    assert.equal(u.body.security_group.name, 'www');
    assert.equal((await sg('DELETE', `/os-security-groups/${g.id}`)).status, 202);
    expectFault(await sg('GET', `/os-security-groups/${g.id}`), 404);
  });

  test('Nova’s 400s and the 2.36 cut-off', async () => {
    expectFault(await sg('GET', '/os-security-groups/not-a-uuid'), 400, 'Security group id should be uuid');
    expectFault(
      await sg('POST', '/os-security-groups', { security_group: { description: 'x' } }),
      400,
      'name is not a string or unicode',
    );
    expectFault(
      await sg('POST', '/os-security-groups', { security_group: { name: 'x'.repeat(256), description: '' } }),
      400,
      'name has 256 characters, more than 255.',
    );
    expectFault(await sg('POST', '/os-security-groups', {}), 400, "The request body can't be empty");
    expectFault(await sg('GET', '/os-security-groups', undefined, '2.36'), 404);
  });

  test('rules: create with Nova’s checks, shown in the group, delete', async () => {
    const g = (await sg('POST', '/os-security-groups', { security_group: { name: 'r', description: '' } }))
      .body.security_group;
    const rule = (b: Record<string, unknown>) =>
      sg('POST', '/os-security-group-rules', { security_group_rule: b });
    const r = await rule({
      parent_group_id: g.id,
      ip_protocol: 'tcp',
      from_port: 22,
      to_port: 22,
      cidr: '10.0.0.0/8',
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.security_group_rule, {
      id: r.body.security_group_rule.id,
      parent_group_id: g.id,
      ip_protocol: 'tcp',
      from_port: 22,
      to_port: 22,
      group: {},
      ip_range: { cidr: '10.0.0.0/8' },
    });
    expectFault(
      await rule({
        parent_group_id: g.id,
        ip_protocol: 'tcp',
        from_port: 22,
        to_port: 22,
        cidr: '10.0.0.0/8',
      }),
      400,
      `This rule already exists in group ${g.id}`,
    );
    expectFault(
      await rule({ parent_group_id: g.id, ip_protocol: 'tcp', from_port: 30, to_port: 20 }),
      400,
      'Invalid port range 30:20. Former value cannot be greater than the later',
    );
    expectFault(
      await rule({ parent_group_id: g.id, ip_protocol: 'xyz', from_port: 1, to_port: 2 }),
      400,
      'Invalid IP protocol xyz.',
    );
    expectFault(await rule({ parent_group_id: g.id }), 400, 'Not enough parameters to build a valid rule.');
    expectFault(
      await rule({
        parent_group_id: '6b9a1f70-1e38-4a49-8d0f-1e7cb6a8e9a1',
        ip_protocol: 'tcp',
        from_port: 1,
        to_port: 2,
      }),
      404,
    );
    const byGroup = await rule({ parent_group_id: g.id, ip_protocol: 'icmp', group_id: g.id });
    assert.equal(byGroup.status, 200, byGroup.text);
    assert.deepEqual(byGroup.body.security_group_rule.group, { name: 'r', tenant_id: user.projectId });
    assert.equal(byGroup.body.security_group_rule.from_port, -1);
    const shown = (await sg('GET', `/os-security-groups/${g.id}`)).body.security_group;
    assert.equal(shown.rules.length, 2);
    assert.equal(
      (await sg('DELETE', `/os-security-group-rules/${r.body.security_group_rule.id}`)).status,
      202,
    );
    assert.equal((await sg('GET', `/os-security-groups/${g.id}`)).body.security_group.rules.length, 1);
  });

  test('a server’s groups come from its ports; add/remove change the ports', async () => {
    const net = await makeNetwork(tc, user.token, 'sgnet', '10.30.0.0/24');
    const s = await bootServer(tc, user, imageId, { networks: [{ uuid: net.id }] });
    const id = String(s['id']);
    await sg('POST', '/os-security-groups', { security_group: { name: 'extra', description: '' } });
    assert.equal(
      (await sg('POST', `/servers/${id}/action`, { addSecurityGroup: { name: 'extra' } })).status,
      202,
    );
    const [p] = await ports(tc, `device_id=${id}`);
    assert.equal((p!['security_groups'] as string[]).length, 2);
    const mine = await sg('GET', `/servers/${id}/os-security-groups`);
    assert.deepEqual(
      mine.body.security_groups.map((g: { name: string }) => g.name),
      ['default', 'extra'],
    );
    const shown = await nova(tc, 'GET', `/servers/${id}`, { token: user.token, mv: '2.93' });
    assert.deepEqual(shown.body.server.security_groups.map((g: { name: string }) => g.name).sort(), [
      'default',
      'extra',
    ]);
    assert.equal(
      (await sg('POST', `/servers/${id}/action`, { removeSecurityGroup: { name: 'extra' } })).status,
      202,
    );
    expectFault(
      await sg('POST', `/servers/${id}/action`, { removeSecurityGroup: { name: 'extra' } }),
      404,
      `Security group extra not associated with the instance ${id}`,
    );
    expectFault(
      await sg('POST', `/servers/${id}/action`, { addSecurityGroup: { name: 'ghost' } }),
      404,
      `Security group ghost is not found for project ${user.projectId}`,
    );
    // Without its last group the server shows no security_groups key at all, as Nova (Tempest checks it).
    assert.equal(
      (await sg('POST', `/servers/${id}/action`, { removeSecurityGroup: { name: 'default' } })).status,
      202,
    );
    const bare = await nova(tc, 'GET', `/servers/${id}`, { token: user.token, mv: '2.93' });
    assert.equal(bare.status, 200);
    assert.ok(!('security_groups' in bare.body.server), JSON.stringify(bare.body.server.security_groups));
  });
});
