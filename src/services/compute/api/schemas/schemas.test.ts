// Tests for the compute request schemas: every table compiles, and bodies pass or fail per microversion as in Nova.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { byVersion, Microversion } from '../../../../platform/http/microversion.ts';
import { SchemaValidator } from '../../../../platform/http/validate.ts';
import * as all from './index.ts';
import {
  integerOrString,
  name,
  nameWithSpaces,
  userData,
  uuid,
  type VersionedSchema,
} from './parameter-types.ts';

const validator = new SchemaValidator();
const pick = (table: VersionedSchema, v: string) => byVersion(Microversion.parse(v)!, table);
const passes = (table: VersionedSchema, v: string, body: unknown): boolean =>
  validator.compile(pick(table, v))(body) === true;
const ok = (table: VersionedSchema, v: string, body: unknown): void =>
  assert.equal(passes(table, v, body), true, `${v} should accept ${JSON.stringify(body)}`);
const bad = (table: VersionedSchema, v: string, body: unknown): void =>
  assert.equal(passes(table, v, body), false, `${v} should refuse ${JSON.stringify(body)}`);
const matches = (schema: Record<string, unknown>, value: unknown): boolean =>
  validator.compile(schema)(value) === true;

const IMAGE = '70a599e0-31e7-49b7-b260-868f441e862b';
const server = (extra: Record<string, unknown> = {}) => ({
  server: { name: 'vm-1', flavorRef: '1', imageRef: IMAGE, ...extra },
});

function tables(): [string, VersionedSchema][] {
  const out: [string, VersionedSchema][] = [];
  const visit = (prefix: string, mod: Record<string, unknown>): void => {
    for (const [key, value] of Object.entries(mod)) {
      if (!value || typeof value !== 'object') continue;
      if (key === 'serverActions') {
        for (const [action, spec] of Object.entries(value as Record<string, { body: VersionedSchema }>))
          out.push([`serverActions.${action}`, spec.body]);
      } else if (Object.keys(value).every((k) => Microversion.parse(k))) {
        out.push([`${prefix}${key}`, value as VersionedSchema]);
      } else visit(`${key}.`, value as Record<string, unknown>);
    }
  };
  visit('', all as Record<string, unknown>);
  return out;
}

describe('compute schemas', () => {
  it('compiles every table at every version, all within 2.1-2.93', () => {
    const found = tables();
    assert.ok(found.length >= 60, `only ${found.length} tables`);
    for (const [label, table] of found)
      for (const [v, schema] of Object.entries(table)) {
        assert.doesNotThrow(() => validator.compile(schema), `${label}@${v}`);
        const mv = Microversion.parse(v)!;
        assert.ok(mv.atLeast('2.1') && !mv.atLeast('2.94'), `${label}@${v}`);
      }
  });

  it('checks names as Nova does: printable, trimmed, at most 255 characters', () => {
    assert.equal(matches(name, 'web server 1'), true);
    assert.equal(matches(name, 'ünïcödé-名前'), true);
    assert.equal(matches(name, 'a'.repeat(255)), true);
    assert.equal(matches(name, 'a'.repeat(256)), false);
    assert.equal(matches(name, ''), false);
    assert.equal(matches(name, ' leading'), false);
    assert.equal(matches(name, 'trailing '), false);
    assert.equal(matches(name, 'tab\there'), false);
    assert.equal(matches(name, 'emoji 😀'), false);
    assert.equal(matches(nameWithSpaces, '  padded  '), true);
    assert.equal(matches(nameWithSpaces, '   '), false);
  });

  it('checks numeric strings against the bounds Nova applies to them', () => {
    const quota = integerOrString(-1, 0x7fffffff);
    for (const v of [-1, 0, 5, '-1', '0', '10', '2147483647', '002147483647'])
      assert.equal(matches(quota, v), true, String(v));
    for (const v of [-2, 2147483648, '-2', '2147483648', '99999999999', '1.5', ' 1', 'abc', true])
      assert.equal(matches(quota, v), false, String(v));
    const positive = integerOrString(1);
    assert.equal(matches(positive, '1'), true);
    assert.equal(matches(positive, '0'), false);
    assert.equal(matches(positive, 0), false);
  });

  it('takes UUIDs and base64 the way oslo does', () => {
    for (const v of [
      IMAGE,
      IMAGE.toUpperCase(),
      IMAGE.replaceAll('-', ''),
      `urn:uuid:${IMAGE}`,
      `{${IMAGE}}`,
    ])
      assert.equal(matches(uuid, v), true, v);
    for (const v of ['not-a-uuid', IMAGE.slice(1), `${IMAGE}0`]) assert.equal(matches(uuid, v), false, v);
    for (const v of ['', 'aGVsbG8=', 'aGVsbG8gd29ybGQ=', 'aGVs\nbG8h'])
      assert.equal(matches(userData, v), true, v);
    for (const v of ['aGVsbG8', 'not base64!', 'aGVsbG8==x']) assert.equal(matches(userData, v), false, v);
  });

  it('accepts a minimal server create and its microversioned fields only from their version', () => {
    const t = all.serverCreate;
    ok(t, '2.1', server());
    ok(t, '2.1', { ...server(), 'os:scheduler_hints': { group: IMAGE, anything: 'goes' } });
    bad(t, '2.1', server({ name: 'x'.repeat(256) }));
    bad(t, '2.1', server({ name: ' padded' }));
    bad(t, '2.1', { server: { name: 'vm' } });
    bad(t, '2.1', server({ bogus: 1 }));
    bad(t, '2.1', { ...server(), extra: {} });
    bad(t, '2.18', server({ description: 'd' }));
    ok(t, '2.19', server({ description: 'd' }));
    ok(t, '2.19', server({ description: null }));
    bad(t, '2.51', server({ networks: 'auto', tags: ['a'] }));
    ok(t, '2.52', server({ networks: 'auto', tags: ['a', 'b'] }));
    bad(t, '2.52', server({ networks: 'auto', tags: ['a/b'] }));
    bad(t, '2.52', server({ networks: 'auto', tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }));
    ok(t, '2.62', server({ networks: 'none' }));
    bad(t, '2.62', server({ networks: 'none', trusted_image_certificates: ['c'] }));
    ok(t, '2.63', server({ networks: 'none', trusted_image_certificates: ['c'] }));
    bad(t, '2.73', server({ networks: 'none', host: 'compute-1' }));
    ok(t, '2.74', server({ networks: 'none', host: 'compute-1', hypervisor_hostname: 'node_1.example' }));
    bad(t, '2.89', server({ networks: 'none', hostname: 'vm-1' }));
    ok(t, '2.90', server({ networks: 'none', hostname: 'vm-1' }));
    bad(t, '2.90', server({ networks: 'none', hostname: 'vm_1' }));
  });

  it('handles networks: a list before 2.37, then required and possibly auto or none', () => {
    const t = all.serverCreate;
    bad(t, '2.1', server({ networks: 'none' }));
    bad(t, '2.36', server({ networks: 'auto' }));
    ok(t, '2.36', server({ networks: [{ uuid: 'any-string' }] }));
    ok(t, '2.37', server({ networks: 'none' }));
    ok(t, '2.37', server({ networks: 'auto' }));
    bad(t, '2.37', server({ networks: 'some' }));
    bad(t, '2.37', server());
    bad(t, '2.37', server({ networks: [{ uuid: 'any-string' }] }));
    ok(t, '2.37', server({ networks: [{ uuid: IMAGE, fixed_ip: '10.0.0.4' }] }));
    bad(t, '2.37', server({ networks: [{ uuid: IMAGE, fixed_ip: '10.0.0.400' }] }));
    ok(t, '2.37', server({ networks: [{ port: IMAGE }, { port: null }] }));
    // The network tag: 2.32-2.36, then again from 2.42; the BDM tag: 2.32 only, then from 2.42.
    bad(t, '2.31', server({ networks: [{ uuid: IMAGE, tag: 'nic1' }] }));
    ok(t, '2.33', server({ networks: [{ uuid: IMAGE, tag: 'nic1' }] }));
    bad(t, '2.37', server({ networks: [{ uuid: IMAGE, tag: 'nic1' }] }));
    ok(t, '2.42', server({ networks: [{ uuid: IMAGE, tag: 'nic1' }] }));
    const bdm = {
      block_device_mapping_v2: [{ boot_index: 0, uuid: IMAGE, source_type: 'image', tag: 'disk' }],
    };
    ok(t, '2.32', server(bdm));
    bad(t, '2.33', server(bdm));
    ok(t, '2.42', server({ ...bdm, networks: 'none' }));
  });

  it('validates the remaining create fields', () => {
    const t = all.serverCreate;
    ok(t, '2.1', server({ imageRef: '' }));
    bad(t, '2.1', server({ imageRef: 'cirros' }));
    ok(t, '2.1', server({ accessIPv4: '192.168.0.1', accessIPv6: '::1' }));
    bad(t, '2.1', server({ accessIPv4: '::1' }));
    bad(t, '2.1', server({ accessIPv6: '192.168.0.1' }));
    ok(t, '2.1', server({ user_data: 'IyEvYmluL3NoCmVjaG8gaGk=', metadata: { role: 'web' } }));
    bad(t, '2.1', server({ user_data: 'not*base64' }));
    bad(t, '2.1', server({ metadata: { role: 5 } }));
    bad(t, '2.1', server({ metadata: { 'bad/key': 'v' } }));
    ok(t, '2.1', server({ min_count: 1, max_count: '3', return_reservation_id: 'True', config_drive: true }));
    bad(t, '2.1', server({ min_count: 0 }));
    bad(t, '2.1', server({ max_count: '0' }));
    bad(t, '2.1', server({ config_drive: 'maybe' }));
    ok(
      t,
      '2.1',
      server({ security_groups: [{ name: 'default' }], key_name: 'key', availability_zone: 'nova' }),
    );
    bad(t, '2.1', server({ security_groups: [{ name: 'default', id: 1 }] }));
    ok(t, '2.1', server({ adminPass: ' any thing ', 'OS-DCF:diskConfig': 'AUTO' }));
    bad(t, '2.1', server({ 'OS-DCF:diskConfig': 'auto' }));
    ok(t, '2.56', server({ networks: 'none', personality: [{ path: '/etc/motd', contents: 'aGk=' }] }));
    bad(t, '2.57', server({ networks: 'none', personality: [{ path: '/etc/motd', contents: 'aGk=' }] }));
    const volType = {
      block_device_mapping_v2: [{ source_type: 'blank', volume_type: 'ssd' }],
      networks: 'none',
    };
    bad(t, '2.66', server(volType));
    ok(t, '2.67', server(volType));
  });

  it('checks server update', () => {
    const t = all.serverUpdate;
    ok(t, '2.1', { server: { name: 'renamed', accessIPv4: '10.0.0.1' } });
    bad(t, '2.1', { server: { description: 'x' } });
    ok(t, '2.19', { server: { description: 'x' } });
    bad(t, '2.19', { server: { hostname: 'h1' } });
    ok(t, '2.90', { server: { hostname: 'h1' } });
    bad(t, '2.90', { server: { name: 'x'.repeat(256) } });
    bad(t, '2.90', {});
  });
});
