// GET /extensions and /extensions/{alias}: Nova's frozen v2.1 catalogue for any caller; unknown aliases 404.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import { expectFault, expectKeys, nova } from './compute-support.ts';

let tc: TestCloud;
let member: TestUser;

before(async () => {
  tc = await startTestCloud();
  member = await tc.makeUser();
});
after(async () => {
  await tc.close();
});

describe('extensions', () => {
  test('lists the catalogue, sorted by alias, to any user', async () => {
    const res = await nova(tc, 'GET', '/extensions', { token: member.token });
    assert.equal(res.status, 200, res.text);
    const exts: Record<string, unknown>[] = res.body.extensions;
    assert.equal(exts.length, 99);
    for (const e of exts) {
      expectKeys(e, ['alias', 'description', 'links', 'name', 'namespace', 'updated']);
      assert.deepEqual(e['links'], []);
      assert.equal(e['updated'], '2014-12-03T00:00:00Z');
      assert.equal(e['namespace'], 'http://docs.openstack.org/compute/ext/fake_xml');
    }
    const aliases = exts.map((e) => String(e['alias']));
    assert.deepEqual(aliases, [...aliases].sort());
    const hosts = exts.find((e) => e['name'] === 'Hosts');
    assert.equal(hosts?.['alias'], 'os-hosts');
    assert.ok(aliases.includes('OS-DCF'));
  });

  test('shows one by alias; an unknown alias is a 404', async () => {
    const res = await nova(tc, 'GET', '/extensions/os-consoles', { token: member.token });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.extension, {
      alias: 'os-consoles',
      description: 'Interactive Console support.',
      links: [],
      name: 'Consoles',
      namespace: 'http://docs.openstack.org/compute/ext/fake_xml',
      updated: '2014-12-03T00:00:00Z',
    });
    expectFault(await nova(tc, 'GET', '/extensions/os-nope', { token: member.token }), 404);
  });
});
