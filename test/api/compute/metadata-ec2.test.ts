// The metadata API's EC2 side (listings with trailing slashes, leaves, public keys, versions), the config drive's
// file list and contents (and an ISO built from it), and the networking seam (network_data.json, addresses).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { buildConfigDriveIso } from '../../../src/agent/compute/config-drive.ts';
import { signInstanceId } from '../../../src/services/compute/metadata/handler.ts';
import type { GuestNetworkInfo } from '../../../src/services/compute/metadata/network-data.ts';
import {
  createMetadataService,
  type MetadataService,
} from '../../../src/services/compute/metadata/service.ts';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import { nova, uploadTestImage, waitForStatus } from './compute-support.ts';

const USER_DATA = Buffer.from('#cloud-config\nruncmd: [echo hi]\n\u00e9\n');

let tc: TestCloud;
let user: TestUser;
let svc: MetadataService;
let serverId: string;
let imageId: string;
let reservationId: string;
let publicKey: string;

async function ec2(path: string, service: MetadataService = svc, id = serverId) {
  const r = await service.app.inject({
    method: 'GET',
    url: path,
    headers: {
      'x-instance-id': id,
      'x-tenant-id': user.projectId,
      'x-instance-id-signature': signInstanceId('', id),
      'x-forwarded-for': '10.0.0.5',
    },
  });
  return { status: r.statusCode, type: String(r.headers['content-type']), text: r.body, raw: r.rawPayload };
}

before(async () => {
  tc = await startTestCloud();
  user = await tc.makeUser();
  imageId = await uploadTestImage(tc);
  const kp = await nova(tc, 'POST', '/os-keypairs', {
    token: user.token,
    mv: '2.2',
    body: { keypair: { name: 'k1' } },
  });
  publicKey = kp.body.keypair.public_key;
  const r = await nova(tc, 'POST', '/servers', {
    token: user.token,
    mv: '2.93',
    body: {
      server: {
        name: 'ec2-vm',
        flavorRef: '1',
        imageRef: imageId,
        networks: 'none',
        key_name: 'k1',
        user_data: USER_DATA.toString('base64'),
        metadata: { a: 'b' },
      },
    },
  });
  assert.equal(r.status, 202, r.text);
  serverId = r.body.server.id;
  await waitForStatus(tc, serverId, user.token, 'ACTIVE');
  const row = await tc.cloud.compute.context.db
    .selectFrom('compute_servers')
    .select('reservation_id')
    .where('id', '=', serverId)
    .executeTakeFirstOrThrow();
  reservationId = row.reservation_id;
  // No shared secret: Nova's HMAC with an empty key.
  svc = createMetadataService(tc.cloud.compute.context);
});
after(async () => {
  await tc.close();
});

describe('metadata API: EC2 tree', () => {
  test('a version lists meta-data/ and user-data; unknown versions are 404', async () => {
    for (const v of ['latest', '2009-04-04', '1.0']) {
      const r = await ec2(`/${v}/`);
      assert.equal(r.status, 200, v);
      assert.equal(r.type, 'text/plain; charset=UTF-8');
      assert.equal(r.text, 'meta-data/\nuser-data');
    }
    assert.equal((await ec2('/2010-01-01/meta-data/')).status, 404);
    assert.equal((await ec2('/ec2')).text.split('\n').at(-1), 'latest');
  });

  test('meta-data/ lists the entries of its version, directories with a trailing slash', async () => {
    assert.equal(
      (await ec2('/latest/meta-data/')).text,
      [
        'ami-id',
        'ami-launch-index',
        'ami-manifest-path',
        'block-device-mapping/',
        'hostname',
        'instance-action',
        'instance-id',
        'instance-type',
        'local-hostname',
        'local-ipv4',
        'placement/',
        'public-hostname',
        'public-ipv4',
        'public-keys/',
        'reservation-id',
        'security-groups',
      ].join('\n'),
    );
    assert.equal(
      (await ec2('/1.0/meta-data')).text,
      'ami-id\nami-launch-index\nami-manifest-path\nhostname\ninstance-id\nlocal-ipv4\npublic-keys/\nreservation-id\nsecurity-groups',
    );
    const v2007 = (await ec2('/2007-08-29/meta-data/')).text.split('\n');
    assert.ok(v2007.includes('instance-type') && !v2007.includes('placement/'));
  });

  test('leaves', async () => {
    const leaf = async (p: string) => (await ec2(`/latest/meta-data/${p}`)).text;
    assert.equal(await leaf('instance-id'), `i-${serverId.slice(0, 8)}`);
    assert.equal(await leaf('ami-id'), `ami-${imageId.replaceAll('-', '').slice(0, 8)}`);
    assert.equal(await leaf('ami-launch-index'), '0');
    assert.equal(await leaf('ami-manifest-path'), 'FIXME');
    assert.equal(await leaf('hostname'), 'ec2-vm.novalocal');
    assert.equal(await leaf('local-hostname'), 'ec2-vm.novalocal');
    assert.equal(await leaf('instance-type'), 'm1.tiny');
    assert.equal(await leaf('instance-action'), 'none');
    assert.equal(await leaf('reservation-id'), reservationId);
    assert.equal(await leaf('security-groups'), 'default');
    assert.equal(await leaf('local-ipv4'), '10.0.0.5', 'the requester address without a fixed IP');
    assert.equal(await leaf('public-ipv4'), '');
    assert.equal(await leaf('placement/'), 'availability-zone');
    assert.equal(await leaf('placement/availability-zone'), 'nova');
    assert.equal(await leaf('block-device-mapping/'), 'ami\nroot');
    assert.equal(await leaf('block-device-mapping/root'), '/dev/vda');
    assert.equal(await leaf('block-device-mapping/ami'), 'vda');
  });

  test('public keys render as "0=name", then openssh-key', async () => {
    assert.equal((await ec2('/latest/meta-data/public-keys/')).text, '0=k1');
    assert.equal((await ec2('/latest/meta-data/public-keys/0/')).text, 'openssh-key');
    assert.equal((await ec2('/2009-04-04/meta-data/public-keys/0/openssh-key')).text, publicKey);
  });

  test('user-data is the exact bytes; missing paths and paths below leaves are 404', async () => {
    const u = await ec2('/latest/user-data');
    assert.deepEqual(u.raw, USER_DATA);
    assert.equal((await ec2('/ec2/2009-04-04/user-data')).raw.toString(), USER_DATA.toString());
    for (const p of [
      '/latest/meta-data/nope',
      '/latest/meta-data/hostname/x',
      '/latest/meta-data/security-groups/default',
      '/latest/user-data/x',
    ]) {
      assert.equal((await ec2(p)).status, 404, p);
    }
  });
});

describe('config drive files', () => {
  test('the list Nova writes: EC2 2009-04-04 and latest, every OpenStack version by its documents', async () => {
    const files = await svc.configDriveFiles(serverId);
    const paths = files.map((f) => f.path);
    const os = (v: string, docs: string[]) => docs.map((d) => `openstack/${v}/${d}`);
    const early = ['meta_data.json', 'user_data'];
    const havana = [...early, 'vendor_data.json'];
    const liberty = [...havana, 'network_data.json'];
    const newton = [...liberty, 'vendor_data2.json'];
    assert.deepEqual(paths, [
      'ec2/2009-04-04/user-data',
      'ec2/2009-04-04/meta-data.json',
      'ec2/latest/user-data',
      'ec2/latest/meta-data.json',
      ...os('2012-08-10', early),
      ...os('2013-04-04', early),
      ...os('2013-10-17', havana),
      ...os('2015-10-15', liberty),
      ...os('2016-06-30', liberty),
      ...os('2016-10-06', newton),
      ...os('2017-02-22', newton),
      ...os('2018-08-27', newton),
      ...os('2020-10-14', newton),
      ...os('latest', newton),
    ]);
    const byPath = new Map(files.map((f) => [f.path, f.contents]));
    assert.deepEqual(Buffer.from(byPath.get('openstack/latest/user_data') as Uint8Array), USER_DATA);
    const ec2md = JSON.parse(String(byPath.get('ec2/latest/meta-data.json')));
    assert.deepEqual(ec2md['public-keys'], { '0': { 'openssh-key': publicKey } });
    assert.equal(ec2md['local-ipv4'], null);
    assert.equal(ec2md['instance-id'], `i-${serverId.slice(0, 8)}`);
    assert.deepEqual(ec2md.placement, { 'availability-zone': 'nova' });
    assert.equal(String(byPath.get('openstack/latest/network_data.json')), '{}');
    assert.equal(String(byPath.get('openstack/latest/vendor_data2.json')), '{"static": {}}');
    const md = JSON.parse(String(byPath.get('openstack/2012-08-10/meta_data.json')));
    assert.equal(md.admin_pass, undefined);
  });

  test('the admin password goes into meta_data.json after meta; unknown servers throw', async () => {
    const files = await svc.configDriveFiles(serverId, { adminPass: 'S3cret!' });
    const md = JSON.parse(String(files.find((f) => f.path === 'openstack/latest/meta_data.json')!.contents));
    assert.equal(md.admin_pass, 'S3cret!');
    assert.deepEqual(Object.keys(md).slice(0, 4), ['uuid', 'meta', 'admin_pass', 'public_keys']);
    await assert.rejects(svc.configDriveFiles('00000000-0000-4000-8000-000000000000'), /could not be found/);
  });

  test('an ISO built from them reads back (isoinfo)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'monostack-md-iso-'));
    try {
      const iso = join(dir, 'disk.config');
      await buildConfigDriveIso(await svc.configDriveFiles(serverId), iso);
      const run = promisify(execFile);
      const x = async (p: string) =>
        (await run('isoinfo', ['-J', '-x', p, '-i', iso], { encoding: 'buffer' })).stdout as Buffer;
      const md = JSON.parse((await x('/openstack/latest/meta_data.json')).toString());
      assert.equal(md.uuid, serverId);
      assert.equal(md.hostname, 'ec2-vm.novalocal');
      assert.deepEqual(await x('/openstack/latest/user_data'), USER_DATA);
      assert.deepEqual(await x('/ec2/latest/user-data'), USER_DATA);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('networking seam', () => {
  const info: GuestNetworkInfo = {
    networkData: {
      services: [{ address: '10.0.0.2', type: 'dns' }],
      networks: [
        {
          network_id: 'net-1',
          link: 'tapabc',
          type: 'ipv4',
          id: 'network0',
          ip_address: '10.0.0.7',
          netmask: '255.255.255.0',
          routes: [{ gateway: '10.0.0.1', netmask: '0.0.0.0', network: '0.0.0.0' }],
          services: [{ type: 'dns', address: '10.0.0.2' }],
        },
        { id: 'network1', type: 'ipv6_dhcp', link: 'tapabc', network_id: 'net-1' },
      ],
      links: [
        { ethernet_mac_address: 'fa:16:3e:00:00:01', mtu: 1450, type: 'phy', vif_id: 'port-1', id: 'tapabc' },
      ],
    },
    fixedIps: ['10.0.0.7'],
    floatingIps: ['203.0.113.9'],
    securityGroups: ['default', 'web'],
  };

  test('network_data.json in Nova key order; EC2 addresses and groups from networking', async () => {
    const s = createMetadataService(tc.cloud.compute.context, {
      networkInfo: (id) => (id === serverId ? info : undefined),
      dhcpDomain: '',
    });
    const n = await ec2('/openstack/latest/network_data.json', s);
    assert.equal(
      n.text,
      '{"links": [{"id": "tapabc", "vif_id": "port-1", "type": "phy", "mtu": 1450, "ethernet_mac_address": "fa:16:3e:00:00:01"}], ' +
        '"networks": [{"id": "network0", "type": "ipv4", "link": "tapabc", "ip_address": "10.0.0.7", "netmask": "255.255.255.0", ' +
        '"routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "10.0.0.1"}], "network_id": "net-1", ' +
        '"services": [{"type": "dns", "address": "10.0.0.2"}]}, ' +
        '{"id": "network1", "type": "ipv6_dhcp", "link": "tapabc", "network_id": "net-1"}], ' +
        '"services": [{"type": "dns", "address": "10.0.0.2"}]}',
    );
    assert.equal((await ec2('/latest/meta-data/local-ipv4', s)).text, '10.0.0.7');
    assert.equal((await ec2('/latest/meta-data/public-ipv4', s)).text, '203.0.113.9');
    assert.equal((await ec2('/latest/meta-data/security-groups', s)).text, 'default\nweb');
    assert.equal((await ec2('/latest/meta-data/hostname', s)).text, 'ec2-vm', 'no dhcp_domain');
  });
});
