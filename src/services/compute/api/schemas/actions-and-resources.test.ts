// Tests for the server action bodies and the other compute resources' schemas, per microversion.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { byVersion, Microversion } from '../../../../platform/http/microversion.ts';
import { SchemaValidator } from '../../../../platform/http/validate.ts';
import * as s from './index.ts';

const validator = new SchemaValidator();
const passes = (table: s.VersionedSchema, v: string, body: unknown): boolean =>
  validator.compile(byVersion(Microversion.parse(v)!, table))(body) === true;
const ok = (table: s.VersionedSchema, v: string, body: unknown): void =>
  assert.equal(passes(table, v, body), true, `${v} should accept ${JSON.stringify(body)}`);
const bad = (table: s.VersionedSchema, v: string, body: unknown): void =>
  assert.equal(passes(table, v, body), false, `${v} should refuse ${JSON.stringify(body)}`);
const action = (key: string) => {
  const spec = s.serverActions[key];
  assert.ok(spec, key);
  return spec.body;
};
const ID = '70a599e0-31e7-49b7-b260-868f441e862b';

describe('server action schemas', () => {
  it('lists each action with the versions it exists in', () => {
    assert.equal(s.serverActions['trigger_crash_dump']?.since, '2.17');
    assert.equal(s.serverActions['os-getVNCConsole']?.until, '2.5');
    assert.equal(s.serverActions['addFloatingIp']?.until, '2.43');
    assert.equal(s.serverActions['reboot']?.since, undefined);
  });

  it('validates reboot, resize and the no-body actions', () => {
    ok(action('reboot'), '2.1', { reboot: { type: 'HARD' } });
    bad(action('reboot'), '2.1', { reboot: { type: 'hArD' } });
    bad(action('reboot'), '2.1', { reboot: {} });
    ok(action('resize'), '2.1', { resize: { flavorRef: '2' } });
    bad(action('resize'), '2.1', { resize: { flavorRef: '' } });
    for (const key of ['os-start', 'os-stop', 'pause', 'confirmResize', 'forceDelete', 'shelve'])
      ok(action(key), '2.93', { [key]: null });
    bad(action('pause'), '2.1', { pause: null, other: 1 });
  });

  it('versions rebuild', () => {
    const t = action('rebuild');
    ok(t, '2.1', { rebuild: { imageRef: ID, name: 'n', personality: [] } });
    bad(t, '2.1', { rebuild: { name: 'n' } });
    bad(t, '2.18', { rebuild: { imageRef: ID, description: 'd' } });
    ok(t, '2.19', { rebuild: { imageRef: ID, description: 'd' } });
    bad(t, '2.53', { rebuild: { imageRef: ID, key_name: null } });
    ok(t, '2.54', { rebuild: { imageRef: ID, key_name: null } });
    bad(t, '2.56', { rebuild: { imageRef: ID, user_data: 'aGk=' } });
    ok(t, '2.57', { rebuild: { imageRef: ID, user_data: null } });
    bad(t, '2.57', { rebuild: { imageRef: ID, personality: [] } });
    ok(t, '2.63', { rebuild: { imageRef: ID, trusted_image_certificates: ['a'] } });
    bad(t, '2.89', { rebuild: { imageRef: ID, hostname: 'h1' } });
    ok(t, '2.90', { rebuild: { imageRef: ID, hostname: 'h1' } });
  });

  it('versions lock, unshelve, migrate, live migration and evacuate', () => {
    ok(action('lock'), '2.1', { lock: { locked_reason: 'anything before 2.73' } });
    ok(action('lock'), '2.73', { lock: { locked_reason: 'maintenance' } });
    ok(action('lock'), '2.73', { lock: null });
    bad(action('lock'), '2.73', { lock: { reason: 'x' } });
    ok(action('unshelve'), '2.76', { unshelve: { anything: 1 } });
    bad(action('unshelve'), '2.77', { unshelve: {} });
    ok(action('unshelve'), '2.77', { unshelve: { availability_zone: 'az1' } });
    bad(action('unshelve'), '2.77', { unshelve: { availability_zone: null } });
    ok(action('unshelve'), '2.91', { unshelve: { availability_zone: null, host: 'c1' } });
    ok(action('unshelve'), '2.91', { unshelve: null });
    ok(action('migrate'), '2.55', { migrate: { host: 'anything' } });
    ok(action('migrate'), '2.56', { migrate: { host: 'compute-1' } });
    bad(action('migrate'), '2.56', { migrate: { host: 'bad host' } });
    const live = action('os-migrateLive');
    ok(live, '2.1', { 'os-migrateLive': { block_migration: false, disk_over_commit: false, host: null } });
    bad(live, '2.25', { 'os-migrateLive': { block_migration: false, disk_over_commit: false, host: null } });
    ok(live, '2.25', { 'os-migrateLive': { block_migration: 'auto', host: null } });
    bad(live, '2.1', { 'os-migrateLive': { block_migration: 'auto', disk_over_commit: false, host: null } });
    ok(live, '2.30', { 'os-migrateLive': { block_migration: 'auto', host: 'c1', force: true } });
    bad(live, '2.68', { 'os-migrateLive': { block_migration: 'auto', host: 'c1', force: true } });
    const evac = action('evacuate');
    bad(evac, '2.1', { evacuate: { host: 'c1' } });
    ok(evac, '2.1', { evacuate: { host: 'c1', onSharedStorage: 'False' } });
    ok(evac, '2.14', { evacuate: {} });
    bad(evac, '2.14', { evacuate: { onSharedStorage: false } });
    ok(evac, '2.29', { evacuate: { force: true, host: 'c1' } });
    bad(evac, '2.68', { evacuate: { force: true } });
  });

  it('validates the other actions', () => {
    ok(action('os-resetState'), '2.1', { 'os-resetState': { state: 'error' } });
    bad(action('os-resetState'), '2.1', { 'os-resetState': { state: 'building' } });
    ok(action('changePassword'), '2.1', { changePassword: { adminPass: 'x' } });
    bad(action('changePassword'), '2.1', { changePassword: {} });
    ok(action('os-getConsoleOutput'), '2.1', { 'os-getConsoleOutput': { length: '-1' } });
    ok(action('os-getConsoleOutput'), '2.1', { 'os-getConsoleOutput': { length: null } });
    bad(action('os-getConsoleOutput'), '2.1', { 'os-getConsoleOutput': { length: '-2' } });
    ok(action('trigger_crash_dump'), '2.17', { trigger_crash_dump: null });
    bad(action('trigger_crash_dump'), '2.17', { trigger_crash_dump: {} });
    ok(action('createBackup'), '2.1', { createBackup: { name: 'b', backup_type: 'daily', rotation: '0' } });
    bad(action('createBackup'), '2.1', { createBackup: { name: 'b', backup_type: 'daily', rotation: -1 } });
    ok(action('createImage'), '2.1', { createImage: { name: 'snap', metadata: { k: 'v' } } });
    bad(action('createImage'), '2.1', { createImage: {} });
    ok(action('rescue'), '2.87', { rescue: { rescue_image_ref: ID } });
    ok(action('rescue'), '2.1', { rescue: null });
    ok(action('addSecurityGroup'), '2.1', { addSecurityGroup: { name: 'default' } });
    bad(action('addSecurityGroup'), '2.1', { addSecurityGroup: { name: '  ' } });
    bad(action('removeSecurityGroup'), '2.1', { removeSecurityGroup: {} });
    ok(action('os-getVNCConsole'), '2.1', { 'os-getVNCConsole': { type: 'novnc' } });
    bad(action('os-getVNCConsole'), '2.1', { 'os-getVNCConsole': { type: 'spice-html5' } });
    ok(s.remoteConsoleCreate, '2.6', { remote_console: { protocol: 'vnc', type: 'novnc' } });
    bad(s.remoteConsoleCreate, '2.7', { remote_console: { protocol: 'mks', type: 'webmks' } });
    ok(s.remoteConsoleCreate, '2.8', { remote_console: { protocol: 'mks', type: 'webmks' } });
    ok(s.forceComplete, '2.22', { force_complete: null });
  });
});

describe('resource schemas', () => {
  it('validates flavors, extra specs and access', () => {
    const flavor = { name: 'm1.tiny', ram: 512, vcpus: '1', disk: 0 };
    ok(s.flavorCreate, '2.1', { flavor });
    ok(s.flavorCreate, '2.1', { flavor: { ...flavor, id: 'tiny-1', rxtx_factor: '1.5', swap: '0' } });
    bad(s.flavorCreate, '2.1', { flavor: { ...flavor, ram: 0 } });
    bad(s.flavorCreate, '2.1', { flavor: { ...flavor, ram: '0' } });
    bad(s.flavorCreate, '2.1', { flavor: { ...flavor, disk: '2147483648' } });
    bad(s.flavorCreate, '2.1', { flavor: { ...flavor, rxtx_factor: 0 } });
    bad(s.flavorCreate, '2.1', { flavor: { ...flavor, id: ' lead' } });
    bad(s.flavorCreate, '2.54', { flavor: { ...flavor, description: 'd' } });
    ok(s.flavorCreate, '2.55', { flavor: { ...flavor, description: 'd' } });
    ok(s.flavorUpdate, '2.55', { flavor: { description: null } });
    bad(s.flavorUpdate, '2.55', { flavor: { name: 'x' } });
    ok(s.flavorExtraSpecsCreate, '2.1', { extra_specs: { 'hw:cpu_policy': 'dedicated', 'quota:n': 5 } });
    bad(s.flavorExtraSpecsCreate, '2.1', { extra_specs: { 'bad/key': 'v' } });
    ok(s.flavorExtraSpecUpdate, '2.1', { 'hw:numa_nodes': '1' });
    bad(s.flavorExtraSpecUpdate, '2.1', { a: '1', b: '2' });
    ok(s.flavorAddTenantAccess, '2.1', { addTenantAccess: { tenant: 'p1' } });
    bad(s.flavorRemoveTenantAccess, '2.1', { removeTenantAccess: { tenant: '' } });
  });

  it('versions keypairs', () => {
    const t = s.keypairCreate;
    ok(t, '2.1', { keypair: { name: 'my key_1-a' } });
    bad(t, '2.1', { keypair: { name: 'my.key' } });
    bad(t, '2.1', { keypair: { name: 'k', type: 'ssh' } });
    ok(t, '2.2', { keypair: { name: 'k', type: 'x509' } });
    bad(t, '2.2', { keypair: { name: 'k', user_id: 'u' } });
    ok(t, '2.10', { keypair: { name: 'k', user_id: 'u' } });
    bad(t, '2.92', { keypair: { name: 'k' } });
    ok(t, '2.92', { keypair: { name: 'me@host.key', public_key: 'ssh-rsa AAA' } });
    bad(t, '2.92', { keypair: { name: ' k', public_key: 'ssh-rsa AAA' } });
  });

  it('versions server groups', () => {
    const t = s.serverGroupCreate;
    ok(t, '2.1', { server_group: { name: 'g', policies: ['affinity'] } });
    bad(t, '2.1', { server_group: { name: 'g', policies: ['soft-affinity'] } });
    bad(t, '2.1', { server_group: { name: 'g', policies: ['affinity', 'anti-affinity'] } });
    ok(t, '2.15', { server_group: { name: 'g', policies: ['soft-affinity'] } });
    bad(t, '2.64', { server_group: { name: 'g', policies: ['affinity'] } });
    ok(t, '2.64', {
      server_group: { name: 'g', policy: 'anti-affinity', rules: { max_server_per_host: 2 } },
    });
    bad(t, '2.64', {
      server_group: { name: 'g', policy: 'anti-affinity', rules: { max_server_per_host: 0 } },
    });
  });

  it('validates aggregates', () => {
    ok(s.aggregateCreate, '2.1', { aggregate: { name: 'agg', availability_zone: null } });
    bad(s.aggregateCreate, '2.1', { aggregate: { name: 'agg', availability_zone: 'a:b' } });
    ok(s.aggregateUpdate, '2.1', { aggregate: { name: ' agg ' } });
    bad(s.aggregateUpdate, '2.1', { aggregate: {} });
    ok(s.aggregateAddHost, '2.1', { add_host: { host: 'compute_1' } });
    bad(s.aggregateRemoveHost, '2.1', { remove_host: { host: 'bad host' } });
    ok(s.aggregateSetMetadata, '2.1', { set_metadata: { metadata: { ssd: 'true', old: null } } });
    ok(s.aggregateImages, '2.81', { cache: [{ id: '70a599e0-31e7-49b7-b260-868f441e862b' }] });
    bad(s.aggregateImages, '2.81', { cache: [] });
  });

  it('versions quota sets and classes', () => {
    ok(s.quotaSetUpdate, '2.1', { quota_set: { instances: 10, floating_ips: -1, force: 'true' } });
    bad(s.quotaSetUpdate, '2.36', { quota_set: { floating_ips: 1 } });
    ok(s.quotaSetUpdate, '2.36', { quota_set: { injected_files: '5' } });
    bad(s.quotaSetUpdate, '2.57', { quota_set: { injected_files: 5 } });
    bad(s.quotaSetUpdate, '2.57', { quota_set: { cores: -2 } });
    ok(s.quotaClassSetUpdate, '2.49', { quota_class_set: { networks: 1 } });
    bad(s.quotaClassSetUpdate, '2.50', { quota_class_set: { networks: 1 } });
    bad(s.quotaClassSetUpdate, '2.1', { quota_class_set: { force: true } });
  });

  it('versions services, external events and attachments', () => {
    ok(s.serviceUpdate, '2.1', { host: 'h', binary: 'nova-compute' });
    bad(s.serviceUpdate, '2.1', { host: 'h', binary: 'nova-compute', forced_down: true });
    ok(s.serviceUpdate, '2.11', { host: 'h', binary: 'nova-compute', forced_down: true });
    ok(s.serviceUpdate, '2.53', { status: 'disabled', disabled_reason: 'maintenance' });
    bad(s.serviceUpdate, '2.53', { host: 'h', binary: 'nova-compute' });
    const ev = (name: string) => ({ events: [{ server_uuid: ID, name, status: 'completed' }] });
    ok(s.serverExternalEventsCreate, '2.1', ev('network-vif-plugged'));
    bad(s.serverExternalEventsCreate, '2.50', ev('volume-extended'));
    ok(s.serverExternalEventsCreate, '2.51', ev('volume-extended'));
    bad(s.serverExternalEventsCreate, '2.92', ev('volume-reimaged'));
    ok(s.serverExternalEventsCreate, '2.93', ev('volume-reimaged'));
    bad(s.serverExternalEventsCreate, '2.93', { events: [] });
    ok(s.volumeAttachmentCreate, '2.1', { volumeAttachment: { volumeId: ID, device: '/dev/vdb' } });
    bad(s.volumeAttachmentCreate, '2.1', { volumeAttachment: { volumeId: ID, device: 'vdb' } });
    bad(s.volumeAttachmentCreate, '2.48', { volumeAttachment: { volumeId: ID, tag: 't' } });
    ok(s.volumeAttachmentCreate, '2.49', { volumeAttachment: { volumeId: ID, tag: 't' } });
    bad(s.volumeAttachmentCreate, '2.78', {
      volumeAttachment: { volumeId: ID, delete_on_termination: true },
    });
    ok(s.volumeAttachmentCreate, '2.79', { volumeAttachment: { volumeId: ID, delete_on_termination: true } });
    bad(s.volumeAttachmentUpdate, '2.84', {
      volumeAttachment: { volumeId: ID, delete_on_termination: true },
    });
    ok(s.volumeAttachmentUpdate, '2.85', { volumeAttachment: { volumeId: ID, delete_on_termination: true } });
    ok(s.interfaceAttachmentCreate, '2.1', {});
    ok(s.interfaceAttachmentCreate, '2.1', {
      interfaceAttachment: { net_id: ID, fixed_ips: [{ ip_address: '10.0.0.5' }] },
    });
    bad(s.interfaceAttachmentCreate, '2.48', { interfaceAttachment: { port_id: ID, tag: 'nic' } });
    ok(s.interfaceAttachmentCreate, '2.49', { interfaceAttachment: { port_id: ID, tag: 'nic' } });
  });

  it('validates metadata and tags', () => {
    ok(s.serverMetadataCreate, '2.1', { metadata: { a: '1' } });
    bad(s.serverMetadataUpdateAll, '2.1', { metadata: { a: 1 } });
    ok(s.serverMetadataUpdate, '2.1', { meta: { a: '1' } });
    bad(s.serverMetadataUpdate, '2.1', { meta: { a: '1', b: '2' } });
    bad(s.serverMetadataUpdate, '2.1', { meta: { a: 'x'.repeat(256) } });
    ok(s.serverTagsUpdateAll, '2.26', { tags: ['a', 'b c'] });
    bad(s.serverTagsUpdateAll, '2.26', { tags: ['a,b'] });
    bad(s.serverTagsUpdateAll, '2.26', { tags: ['x'.repeat(61)] });
    ok(s.serverTagUpdate, '2.26', null);
  });
});
