// Security groups under concurrency on every database dialect: 20 racing first uses make exactly one default
// group, racing identical rules yield one, and a group deleted while a port binds to it never ends half-bound.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { NetworkContext } from '../../../src/services/network/context.ts';
import { portSecurityGroups } from '../../../src/services/network/domain/port-security-groups.ts';
import { startTestCloud, type TestCloud, type TestResponse } from '../../support/cloud.ts';
import { skipFor, TEST_DIALECTS } from '../../support/databases.ts';

for (const d of TEST_DIALECTS) {
  describe(`security group races: ${d.name}`, { skip: skipFor(d) }, () => {
    let tc: TestCloud;
    let cx: NetworkContext;
    before(async () => {
      tc = await startTestCloud({
        database: { url: await d.freshUrl() },
        network: { quotas: { security_group: 100, security_group_rule: 1000 } },
      } as never);
      cx = tc.cloud.network.context;
    });
    after(async () => {
      await tc?.close();
    });

    const api = (method: string, path: string, token: string, body?: unknown): Promise<TestResponse> =>
      tc.request(method, `/network/v2.0${path}`, { token, body });

    test('20 concurrent first uses (lists, creates, port binds) make exactly one default group', async () => {
      const user = await tc.makeUser();
      const bindFirst = (i: number) =>
        cx.write((trx) =>
          portSecurityGroups().bind(cx, trx, { id: `race-port-${i}`, projectId: user.projectId }, undefined),
        );
      const work: Promise<unknown>[] = [];
      for (let i = 0; i < 20; i++) {
        if (i % 4 === 0) work.push(api('GET', '/security-groups', user.token));
        else if (i % 4 === 1) work.push(api('GET', '/security-group-rules', user.token));
        else if (i % 4 === 2)
          work.push(api('POST', '/security-groups', user.token, { security_group: { name: `race-${i}` } }));
        else work.push(bindFirst(i));
      }
      const results = await Promise.all(work);
      for (const r of results)
        if (r && typeof r === 'object' && 'status' in r)
          assert.ok((r as TestResponse).status < 300, (r as TestResponse).text);
      const defaults = await api(
        'GET',
        `/security-groups?name=default&project_id=${user.projectId}`,
        tc.adminToken,
      );
      assert.equal(defaults.body.security_groups.length, 1, defaults.text);
      const id = defaults.body.security_groups[0].id;
      assert.equal(defaults.body.security_groups[0].security_group_rules.length, 4);
      for (const r of results) if (Array.isArray(r)) assert.deepEqual(r, [id]);
      const rows = await cx.db
        .selectFrom('network_default_security_groups')
        .selectAll()
        .where('project_id', '=', user.projectId)
        .execute();
      assert.deepEqual(
        rows.map((x) => x.security_group_id),
        [id],
      );
      const named = await cx.db
        .selectFrom('network_security_groups')
        .select('id')
        .where('project_id', '=', user.projectId)
        .where('name', '=', 'default')
        .execute();
      assert.equal(named.length, 1);
    });

    test('8 concurrent identical rules: one is created, the rest are SecurityGroupRuleExists', async () => {
      const user = await tc.makeUser();
      const sg = (await api('POST', '/security-groups', user.token, { security_group: { name: 'r' } })).body
        .security_group.id;
      const results = await Promise.all(
        Array.from({ length: 8 }, () =>
          api('POST', '/security-group-rules', user.token, {
            security_group_rule: {
              security_group_id: sg,
              direction: 'ingress',
              protocol: 'tcp',
              port_range_min: 22,
              port_range_max: 22,
            },
          }),
        ),
      );
      const ok = results.filter((r) => r.status === 201);
      assert.equal(ok.length, 1);
      for (const r of results.filter((x) => x.status !== 201)) {
        assert.equal(r.status, 409, r.text);
        assert.equal(r.body.NeutronError.type, 'SecurityGroupRuleExists');
        assert.ok(r.body.NeutronError.message.includes(ok[0]!.body.security_group_rule.id));
      }
    });

    test('a group deleted while ports bind to it: either the delete or the binds win, never both', async () => {
      const user = await tc.makeUser();
      for (let round = 0; round < 5; round++) {
        const sg = (
          await api('POST', '/security-groups', user.token, { security_group: { name: `d${round}` } })
        ).body.security_group.id;
        const binds = Array.from({ length: 3 }, (_, i) =>
          cx
            .write((trx) =>
              portSecurityGroups().bind(cx, trx, { id: `p-${round}-${i}`, projectId: user.projectId }, [sg]),
            )
            .then(
              () => 'bound',
              (e: { code?: string }) => e.code ?? String(e),
            ),
        );
        const del = api('DELETE', `/security-groups/${sg}`, user.token);
        const [delRes, ...bound] = await Promise.all([del, ...binds]);
        const left = await cx.db
          .selectFrom('network_port_security_groups')
          .select('port_id')
          .where('security_group_id', '=', sg)
          .execute();
        if (delRes.status === 204) {
          assert.deepEqual(left, [], 'no binding may outlive its group');
          for (const b of bound) assert.equal(b, 'SecurityGroupNotFound');
        } else {
          assert.equal(delRes.status, 409, delRes.text);
          assert.equal(delRes.body.NeutronError.type, 'SecurityGroupInUse');
          assert.equal(left.length, bound.filter((b) => b === 'bound').length);
          assert.ok(left.length > 0);
        }
      }
    });
  });
}
