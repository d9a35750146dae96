// /servers/{id}/os-instance-actions: the list (paging and time filters from 2.58), one action with its events
// per policy and microversion, and deleted servers from 2.21.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestCloud, type TestCloud, type TestUser } from '../../support/cloud.ts';
import { expectFault, insertServer, nova } from './compute-support.ts';

let tc: TestCloud;
let user: TestUser;

const call = (path: string, mv = '2.93', token = user.token) => nova(tc, 'GET', path, { token, mv });
const act = (id: string, body: unknown, token = user.token) =>
  nova(tc, 'POST', `/servers/${id}/action`, { token, body, mv: '2.93' });

/** A parked server with three actions: lock, unlock (each with an api_* event) and stop. */
async function withActions(): Promise<string> {
  const id = await insertServer(tc, { projectId: user.projectId, userId: user.id, host: 'parked-host' });
  assert.equal((await act(id, { lock: null })).status, 202);
  assert.equal((await act(id, { unlock: null })).status, 202);
  assert.equal((await act(id, { 'os-stop': null })).status, 202);
  return id;
}

before(async () => {
  tc = await startTestCloud();
  user = await tc.makeUser();
});
after(async () => {
  await tc.close();
});

describe('instance actions', () => {
  test('lists newest first with Nova keys (updated_at from 2.58)', async () => {
    const id = await withActions();
    const old = await call(`/servers/${id}/os-instance-actions`, '2.1');
    assert.equal(old.status, 200, old.text);
    assert.deepEqual(
      old.body.instanceActions.map((a: { action: string }) => a.action),
      ['stop', 'unlock', 'lock'],
    );
    assert.deepEqual(Object.keys(old.body.instanceActions[0]).sort(), [
      'action',
      'instance_uuid',
      'message',
      'project_id',
      'request_id',
      'start_time',
      'user_id',
    ]);
    const now = await call(`/servers/${id}/os-instance-actions`);
    assert.ok('updated_at' in now.body.instanceActions[0]);
  });

  test('limit and marker page with a next link; a bad marker or parameter is a 400', async () => {
    const id = await withActions();
    const p1 = await call(`/servers/${id}/os-instance-actions?limit=2`);
    assert.equal(p1.body.instanceActions.length, 2);
    const next = p1.body.links[0].href as string;
    const marker = new URL(next).searchParams.get('marker');
    assert.equal(marker, p1.body.instanceActions[1].request_id);
    const p2 = await call(`/servers/${id}/os-instance-actions?limit=2&marker=${marker}`);
    assert.deepEqual(
      p2.body.instanceActions.map((a: { action: string }) => a.action),
      ['lock'],
    );
    assert.equal(p2.body.links, undefined);
    expectFault(
      await call(`/servers/${id}/os-instance-actions?marker=nope`),
      400,
      'Marker nope could not be found.',
    );
    expectFault(await call(`/servers/${id}/os-instance-actions?foo=1`), 400);
    expectFault(await call(`/servers/${id}/os-instance-actions?changes-since=yesterday`), 400);
    const future = await call(`/servers/${id}/os-instance-actions?changes-since=2999-01-01T00:00:00Z`);
    assert.deepEqual(future.body.instanceActions, []);
    expectFault(
      await call(
        `/servers/${id}/os-instance-actions?changes-since=2020-01-02T00:00:00Z&changes-before=2020-01-01T00:00:00Z`,
      ),
      400,
      'The value of changes-since must be less than or equal to changes-before.',
    );
  });

  test('show: events for owners from 2.51 without traceback; admins see host and details', async () => {
    const id = await withActions();
    const list = await call(`/servers/${id}/os-instance-actions`);
    const lock = list.body.instanceActions.find((a: { action: string }) => a.action === 'lock');
    const path = `/servers/${id}/os-instance-actions/${lock.request_id}`;
    const v21 = await call(path, '2.1');
    assert.equal(v21.status, 200, v21.text);
    assert.equal(v21.body.instanceAction.events, undefined);
    const owner = await call(path, '2.84');
    assert.equal(owner.body.instanceAction.events.length, 1);
    const ev = owner.body.instanceAction.events[0];
    assert.equal(ev.event, 'api_lock');
    assert.equal(ev.result, 'Success');
    assert.ok('hostId' in ev);
    assert.ok(!('traceback' in ev) && !('host' in ev) && !('details' in ev));
    const admin = await call(path, '2.84', tc.adminToken);
    const aev = admin.body.instanceAction.events[0];
    assert.ok('traceback' in aev && 'host' in aev && 'details' in aev);
    expectFault(await call(`/servers/${id}/os-instance-actions/req-nope`), 404, 'Action req-nope not found');
  });

  test('deleted servers keep their actions from 2.21', async () => {
    const id = await insertServer(tc, { projectId: user.projectId, userId: user.id, deleted: true });
    expectFault(await call(`/servers/${id}/os-instance-actions`, '2.20'), 404);
    const r = await call(`/servers/${id}/os-instance-actions`, '2.21');
    assert.equal(r.status, 200, r.text);
  });

  test("another project's server is not found", async () => {
    const other = await tc.makeUser();
    const id = await withActions();
    expectFault(await call(`/servers/${id}/os-instance-actions`, '2.93', other.token), 404);
  });
});
