// The metadata API's OpenStack side through HTTP: Neutron-proxy identification (signature good, bad, missing;
// wrong tenant), address lookup, the version listings, meta_data.json per version, user_data bytes, vendor and
// network data, the password (set once, then 409), and WebOb's 404/400/403 bodies.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { signInstanceId } from '../../../src/services/compute/metadata/handler.ts';
import {
  createMetadataService,
  type MetadataService,
} from '../../../src/services/compute/metadata/service.ts';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import { nova, uploadTestImage, waitForStatus } from './compute-support.ts';

const SECRET = 'proxy-secret';
const USER_DATA = Buffer.from([0x23, 0x21, 0x2f, 0x62, 0x69, 0x6e, 0x2f, 0x73, 0x68, 0x0a, 0x00, 0xff, 0xfe]);

let tc: TestCloud;
let user: TestUser;
let svc: MetadataService;
let serverId: string;
let publicKey: string;

interface Answer {
  status: number;
  type: string;
  text: string;
  raw: Buffer;
}

async function md(
  path: string,
  o: {
    id?: string;
    tenant?: string;
    sig?: string | null;
    method?: string;
    body?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<Answer> {
  const id = o.id ?? serverId;
  const headers: Record<string, string> = {
    'x-instance-id': id,
    'x-tenant-id': o.tenant ?? user.projectId,
    'x-forwarded-for': '10.0.0.5',
    ...(o.sig === null ? {} : { 'x-instance-id-signature': o.sig ?? signInstanceId(SECRET, id) }),
    ...o.headers,
  };
  const r = await svc.app.inject({
    method: (o.method ?? 'GET') as 'GET',
    url: path,
    headers,
    ...(o.body !== undefined ? { payload: o.body } : {}),
  });
  return { status: r.statusCode, type: String(r.headers['content-type']), text: r.body, raw: r.rawPayload };
}

const BASE_KEYS = [
  'uuid',
  'meta',
  'public_keys',
  'keys',
  'hostname',
  'name',
  'launch_index',
  'availability_zone',
];

before(async () => {
  tc = await startTestCloud();
  user = await tc.makeUser();
  const imageId = await uploadTestImage(tc);
  const kp = await nova(tc, 'POST', '/os-keypairs', {
    token: user.token,
    mv: '2.2',
    body: { keypair: { name: 'k1' } },
  });
  assert.equal(kp.status, 201, kp.text);
  publicKey = kp.body.keypair.public_key;
  const r = await nova(tc, 'POST', '/servers', {
    token: user.token,
    mv: '2.93',
    body: {
      server: {
        name: 'Meta VM_1',
        flavorRef: '1',
        imageRef: imageId,
        networks: 'none',
        key_name: 'k1',
        user_data: USER_DATA.toString('base64'),
        metadata: { role: 'web', note: 'cödé ✓' },
      },
    },
  });
  assert.equal(r.status, 202, r.text);
  serverId = r.body.server.id;
  await waitForStatus(tc, serverId, user.token, 'ACTIVE');
  svc = createMetadataService(tc.cloud.compute.context, {
    sharedSecret: SECRET,
    byAddress: (ip) => (ip === '10.1.2.3' ? serverId : undefined),
  });
});
after(async () => {
  await svc?.close();
  await tc.close();
});

describe('metadata API: identification', () => {
  test('/ lists the EC2 versions and latest without identifying anyone', async () => {
    const r = await svc.app.inject({ method: 'GET', url: '/' });
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['content-type'], 'text/plain; charset=UTF-8');
    assert.equal(
      r.body,
      '1.0\n2007-01-19\n2007-03-01\n2007-08-29\n2007-10-10\n2007-12-15\n2008-02-01\n2008-09-01\n2009-04-04\nlatest',
    );
  });

  test('a good signature answers; a bad one is 403 with WebOb text', async () => {
    assert.equal((await md('/openstack/latest/meta_data.json')).status, 200);
    const bad = await md('/openstack/latest/meta_data.json', { sig: signInstanceId('other', serverId) });
    assert.equal(bad.status, 403);
    assert.equal(bad.type, 'text/plain; charset=UTF-8');
    assert.equal(bad.text, '403 Forbidden\n\nInvalid proxy request signature.\n\n   ');
  });

  test('missing headers are 400 with Nova messages, in the order Nova checks them', async () => {
    const noSig = await md('/openstack', { sig: null });
    assert.equal(noSig.status, 400);
    assert.equal(
      noSig.text,
      '400 Bad Request\n\nX-Instance-ID-Signature header is missing from request.\n\n   ',
    );
    const noId = await svc.app.inject({ method: 'GET', url: '/openstack', headers: { 'x-tenant-id': 'x' } });
    assert.equal(noId.statusCode, 400);
    assert.match(noId.body, /X-Instance-ID header is missing from request\./);
    const noTenant = await svc.app.inject({
      method: 'GET',
      url: '/openstack',
      headers: { 'x-instance-id': serverId, 'x-instance-id-signature': signInstanceId(SECRET, serverId) },
    });
    assert.equal(noTenant.statusCode, 400);
    assert.match(noTenant.body, /X-Tenant-ID header is missing from request\./);
  });

  test('another tenant, an unknown instance and a deleted one are 404', async () => {
    assert.equal((await md('/openstack', { tenant: 'someone-else' })).status, 404);
    const ghost = '00000000-0000-4000-8000-000000000000';
    assert.equal((await md('/openstack', { id: ghost })).status, 404);
  });

  test('error bodies follow Accept as WebOb renders them', async () => {
    const html = await md('/nope', { headers: { accept: '*/*' } });
    assert.equal(html.status, 404);
    assert.equal(html.type, 'text/html; charset=UTF-8');
    assert.match(html.text, /<title>404 Not Found<\/title>/);
    assert.match(html.text, /The resource could not be found\.<br \/><br \/>/);
    const json = await md('/nope', { headers: { accept: 'application/json' } });
    assert.equal(json.type, 'application/json');
    assert.deepEqual(JSON.parse(json.text), {
      message: 'The resource could not be found.<br /><br />\n\n\n',
      code: '404 Not Found',
      title: 'Not Found',
    });
  });

  test('without proxy headers the address resolver decides (404 when it knows nothing)', async () => {
    const s2 = createMetadataService(tc.cloud.compute.context, {
      useForwardedFor: true,
      byAddress: (ip) => (ip === '10.1.2.3' ? serverId : undefined),
    });
    const ok = await s2.app.inject({
      method: 'GET',
      url: '/latest/meta-data/local-ipv4',
      headers: { 'x-forwarded-for': '10.1.2.3, 192.0.2.1' },
    });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.body, '10.1.2.3');
    const unknown = await s2.app.inject({
      method: 'GET',
      url: '/openstack',
      headers: { 'x-forwarded-for': '10.9.9.9' },
    });
    assert.equal(unknown.statusCode, 404);
    // The peer address (not the header) is used unless use_forwarded_for is on.
    const peer = await svc.app.inject({
      method: 'GET',
      url: '/openstack',
      headers: { 'x-forwarded-for': '10.1.2.3' },
    });
    assert.equal(peer.statusCode, 404);
    // In proxy mode the headers are required.
    const strict = createMetadataService(tc.cloud.compute.context, { identify: 'proxy' });
    const r = await strict.app.inject({ method: 'GET', url: '/openstack' });
    assert.equal(r.statusCode, 400);
    assert.match(r.body, /X-Instance-ID header is missing/);
  });
});

describe('metadata API: OpenStack documents', () => {
  test('/openstack lists every version and latest', async () => {
    const r = await md('/openstack/');
    assert.equal(r.status, 200);
    assert.equal(r.type, 'text/plain; charset=UTF-8');
    assert.equal(
      r.text,
      '2012-08-10\n2013-04-04\n2013-10-17\n2015-10-15\n2016-06-30\n2016-10-06\n2017-02-22\n2018-08-27\n2020-10-14\nlatest',
    );
  });

  test('a version lists its documents as Nova does', async () => {
    assert.equal((await md('/openstack/2012-08-10')).text, 'meta_data.json\nuser_data');
    assert.equal((await md('/openstack/2013-04-04')).text, 'meta_data.json\nuser_data\npassword');
    assert.equal(
      (await md('/openstack/latest/')).text,
      'meta_data.json\nuser_data\npassword\nvendor_data.json\nnetwork_data.json\nvendor_data2.json',
    );
    assert.equal((await md('/openstack/2011-01-01')).status, 404);
    assert.equal((await md('/openstack/latest/nothing.json')).status, 404);
  });

  test('meta_data.json carries the keys of its version', async () => {
    const expected: [string, string[]][] = [
      ['2012-08-10', BASE_KEYS],
      ['2013-04-04', [...BASE_KEYS, 'random_seed']],
      ['2013-10-17', [...BASE_KEYS, 'random_seed']],
      ['2015-10-15', [...BASE_KEYS, 'random_seed', 'project_id']],
      ['2016-06-30', [...BASE_KEYS, 'random_seed', 'project_id', 'devices']],
      ['2018-08-27', [...BASE_KEYS, 'random_seed', 'project_id', 'devices']],
      ['2020-10-14', [...BASE_KEYS, 'random_seed', 'project_id', 'devices', 'dedicated_cpus']],
      ['latest', [...BASE_KEYS, 'random_seed', 'project_id', 'devices', 'dedicated_cpus']],
    ];
    for (const [v, keys] of expected) {
      const r = await md(`/openstack/${v}/meta_data.json`);
      assert.equal(r.status, 200, v);
      assert.equal(r.type, 'application/json');
      assert.deepEqual(Object.keys(JSON.parse(r.text)), keys, v);
    }
  });

  test('meta_data.json values', async () => {
    const r = await md('/openstack/latest/meta_data.json');
    const m = JSON.parse(r.text);
    assert.equal(m.uuid, serverId);
    assert.deepEqual(m.meta, { role: 'web', note: 'cödé ✓' });
    assert.ok(r.text.includes('"note": "c\\u00f6d\\u00e9 \\u2713"'), 'non-ASCII escaped as Python does');
    assert.match(r.text, /^\{"uuid": "/, 'Python separators');
    assert.deepEqual(m.public_keys, { k1: publicKey });
    assert.deepEqual(m.keys, [{ name: 'k1', type: 'ssh', data: publicKey }]);
    assert.equal(m.hostname, 'meta-vm-1.novalocal');
    assert.equal(m.name, 'Meta VM_1');
    assert.equal(m.launch_index, 0);
    assert.equal(m.availability_zone, 'nova');
    assert.equal(m.project_id, user.projectId);
    assert.equal(Buffer.from(m.random_seed, 'base64').length, 512);
    assert.deepEqual(m.devices, []);
    assert.deepEqual(m.dedicated_cpus, []);
  });

  test('user_data is the exact bytes; vendor and network data are Nova defaults', async () => {
    const u = await md('/openstack/latest/user_data');
    assert.equal(u.status, 200);
    assert.equal(u.type, 'text/plain; charset=UTF-8');
    assert.deepEqual(u.raw, USER_DATA);
    const v1 = await md('/openstack/latest/vendor_data.json');
    assert.equal(v1.type, 'application/json');
    assert.equal(v1.text, '{}');
    assert.equal((await md('/openstack/latest/vendor_data2.json')).text, '{"static": {}}');
    assert.equal((await md('/openstack/2012-08-10/vendor_data.json')).status, 404);
    assert.equal((await md('/openstack/2016-06-30/vendor_data2.json')).status, 404);
    const n = await md('/openstack/latest/network_data.json');
    assert.equal(n.type, 'text/plain; charset=UTF-8');
    assert.equal(n.text, '{}');
  });
});

describe('metadata API: password', () => {
  test('empty until set; a guest may post it once, then 409', async () => {
    const empty = await md('/openstack/latest/password');
    assert.equal(empty.status, 200);
    assert.equal(empty.text, '');
    assert.equal((await md('/openstack/2012-08-10/password')).status, 404);
    const tooBig = await md('/openstack/latest/password', { method: 'POST', body: 'x'.repeat(1021) });
    assert.equal(tooBig.status, 400);
    assert.match(tooBig.text, /Request is too large\./);
    const secret = `enc-${'p'.repeat(600)}`;
    const set = await md('/openstack/latest/password', {
      method: 'POST',
      body: secret,
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(set.status, 200, set.text);
    assert.equal((await md('/openstack/2013-04-04/password')).text, secret);
    const again = await md('/openstack/latest/password', { method: 'POST', body: 'other' });
    assert.equal(again.status, 409);
    assert.equal(
      again.text,
      '409 Conflict\n\nThere was a conflict when trying to complete your request.\n\n   ',
    );
    const put = await md('/openstack/latest/password', { method: 'PUT', body: 'x' });
    assert.equal(put.status, 400);
    assert.match(put.text, /GET and POST only are supported\./);
    // The compute API shows what the guest posted (chunks of 255 in system metadata).
    const api = await nova(tc, 'GET', `/servers/${serverId}/os-server-password`, { token: user.token });
    assert.equal(api.body.password, secret);
  });

  test('after the API clears it, a guest may post again', async () => {
    const del = await nova(tc, 'DELETE', `/servers/${serverId}/os-server-password`, { token: user.token });
    assert.equal(del.status, 204);
    assert.equal((await md('/openstack/latest/password')).text, '');
    const set = await md('/openstack/latest/password', { method: 'POST', body: 'second' });
    assert.equal(set.status, 200);
    assert.equal((await md('/openstack/latest/password')).text, 'second');
  });
});
