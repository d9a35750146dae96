// Tests the pure parts of cloud discovery: clouds.yaml, catalog, version documents, settings.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CatalogEntry } from './discovery.ts';
import {
  catalogRegion,
  isAnswer,
  normalizeAuthUrl,
  parseCloudsYaml,
  parseSettings,
  parseVersionDocument,
  publicEndpoints,
  versionDocumentUrls,
} from './discovery.ts';

const CLOUDS = `clouds:
  monostack:
    auth:
      auth_url: http://127.0.0.1:40123
      username: admin
      password: "s3cret"
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: public
    identity_api_version: 3
  monostack-demo:
    auth:
      auth_url: http://127.0.0.1:40123/v3/
      username: demo
      password: demo-pass
      project_name: demo
`;

describe('parseCloudsYaml', () => {
  it('reads the admin cloud and normalizes its auth URL to /v3', () => {
    assert.deepEqual(parseCloudsYaml(CLOUDS, 'monostack'), {
      authUrl: 'http://127.0.0.1:40123/v3',
      username: 'admin',
      password: 's3cret',
      projectName: 'admin',
      userDomainName: 'Default',
      projectDomainName: 'Default',
      regionName: 'RegionOne',
    });
  });

  it('defaults domains to Default', () => {
    const demo = parseCloudsYaml(CLOUDS, 'monostack-demo');
    assert.equal(demo.authUrl, 'http://127.0.0.1:40123/v3');
    assert.equal(demo.userDomainName, 'Default');
    assert.equal(demo.regionName, undefined);
  });

  it('refuses an unknown cloud or one without credentials', () => {
    assert.throws(() => parseCloudsYaml(CLOUDS, 'other'), /no cloud named other/);
    assert.throws(() => parseCloudsYaml('clouds: {x: {auth: {username: a}}}', 'x'), /lacks/);
  });

  it('normalizes auth URLs', () => {
    assert.equal(normalizeAuthUrl('http://h:5000/'), 'http://h:5000/v3');
    assert.equal(normalizeAuthUrl('http://h/identity/v3'), 'http://h/identity/v3');
  });
});

const CATALOG: CatalogEntry[] = [
  {
    type: 'identity',
    endpoints: [
      { interface: 'admin', url: 'http://admin/v3', region_id: 'RegionOne' },
      { interface: 'public', url: 'http://h/v3', region_id: 'RegionOne', region: 'RegionOne' },
    ],
  },
  {
    type: 'compute',
    endpoints: [
      { interface: 'public', url: 'http://other/compute/v2.1', region_id: 'RegionTwo' },
      { interface: 'public', url: 'http://h/compute/v2.1', region_id: 'RegionOne' },
    ],
  },
  { type: 'image', endpoints: [{ interface: 'public', url: 'http://h/image', region_id: 'Elsewhere' }] },
  { type: 'network', endpoints: [{ interface: 'internal', url: 'http://internal/network' }] },
];

describe('catalog', () => {
  it('picks public endpoints in the region, else the first public one', () => {
    assert.deepEqual(
      [...publicEndpoints(CATALOG, 'RegionOne')],
      [
        ['identity', 'http://h/v3'],
        ['compute', 'http://h/compute/v2.1'],
        ['image', 'http://h/image'],
      ],
    );
  });

  it('takes the region from the identity endpoint', () => {
    assert.equal(catalogRegion(CATALOG), 'RegionOne');
    assert.equal(catalogRegion([]), undefined);
  });
});

describe('parseVersionDocument', () => {
  it("reads Nova's single version document", () => {
    const nova = { version: { id: 'v2.1', status: 'CURRENT', version: '2.93', min_version: '2.1' } };
    assert.deepEqual(parseVersionDocument(nova), { minMicroversion: '2.1', maxMicroversion: '2.93' });
  });

  it("reads Cinder's and Placement's version lists, preferring CURRENT", () => {
    const cinder = {
      versions: [
        { id: 'v2.0', status: 'DEPRECATED', version: '', min_version: '' },
        { id: 'v3.0', status: 'CURRENT', version: '3.70', min_version: '3.0' },
      ],
    };
    assert.deepEqual(parseVersionDocument(cinder), { minMicroversion: '3.0', maxMicroversion: '3.70' });
    const placement = {
      versions: [{ id: 'v1.0', max_version: '1.39', min_version: '1.0', status: 'CURRENT' }],
    };
    assert.deepEqual(parseVersionDocument(placement), { minMicroversion: '1.0', maxMicroversion: '1.39' });
  });

  it('takes the newest ranged version when none is CURRENT', () => {
    const doc = {
      versions: [
        { id: 'v2.1', status: 'SUPPORTED', version: '2.50', min_version: '2.1' },
        { id: 'v2.10', status: 'SUPPORTED', version: '2.90', min_version: '2.1' },
      ],
    };
    assert.deepEqual(parseVersionDocument(doc), { minMicroversion: '2.1', maxMicroversion: '2.90' });
  });

  it('finds no range where there are no microversions', () => {
    assert.deepEqual(parseVersionDocument({ version: { id: 'v2.0', version: '', min_version: '' } }), {});
    assert.deepEqual(parseVersionDocument({ versions: { values: [{ id: 'v3.14', status: 'stable' }] } }), {});
    assert.deepEqual(parseVersionDocument('not json'), {});
    assert.deepEqual(parseVersionDocument(null), {});
  });
});

describe('versionDocumentUrls', () => {
  it('drops a trailing project id, then the version segment', () => {
    assert.deepEqual(versionDocumentUrls('http://h/volume/v3/0123456789abcdef0123456789abcdef', undefined), [
      'http://h/volume/v3',
      'http://h/volume',
    ]);
    assert.deepEqual(versionDocumentUrls('http://h:8776/v3/p-1/', 'p-1'), [
      'http://h:8776/v3',
      'http://h:8776',
    ]);
    assert.deepEqual(versionDocumentUrls('http://h/compute/v2.1', 'p-1'), [
      'http://h/compute/v2.1',
      'http://h/compute',
    ]);
    assert.deepEqual(versionDocumentUrls('http://h/placement', 'p-1'), ['http://h/placement']);
    assert.deepEqual(versionDocumentUrls('http://h/v3/%(project_id)s', undefined), [
      'http://h/v3',
      'http://h',
    ]);
  });

  it("probes Swift's account root and /info", () => {
    assert.deepEqual(versionDocumentUrls('http://h/object/v1/AUTH_0123abc', 'p-1'), [
      'http://h/object/v1',
      'http://h/object',
      'http://h/object/info',
    ]);
  });
});

describe('isAnswer', () => {
  it('takes 2xx and 300 Multiple Choices as a live service', () => {
    assert.deepEqual([200, 204, 300, 401, 404, 501].map(isAnswer), [true, true, true, false, false, false]);
  });
});

describe('parseSettings', () => {
  it('reads the keystone [security_compliance] keys', () => {
    const body = {
      lockout_failure_attempts: 5,
      lockout_duration: 30,
      unique_last_password_count: 3,
      minimum_password_age: 1,
    };
    assert.deepEqual(parseSettings(body), {
      lockoutFailureAttempts: 5,
      lockoutDuration: 30,
      uniqueLastPasswordCount: 3,
      minimumPasswordAge: 1,
    });
  });

  it('falls back per key: lockout 2 attempts / 10 s, 2 unique passwords, age 0', () => {
    assert.deepEqual(parseSettings(undefined), {
      lockoutFailureAttempts: 2,
      lockoutDuration: 10,
      uniqueLastPasswordCount: 2,
      minimumPasswordAge: 0,
    });
    assert.equal(parseSettings({ lockout_duration: 'x', lockout_failure_attempts: 4 }).lockoutDuration, 10);
    assert.equal(parseSettings({ lockout_failure_attempts: 4 }).lockoutFailureAttempts, 4);
  });
});
