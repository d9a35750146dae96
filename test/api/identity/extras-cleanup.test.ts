// Deleting a project, domain or endpoint removes the endpoint-filter and domain-config rows that point at it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestCloud, type TestCloud } from '../../support/cloud.ts';

describe('identity extras follow deletions', () => {
  let c: TestCloud;
  before(async () => {
    c = await startTestCloud();
  });
  after(async () => {
    await c.close();
  });
  const rows = async (table: string) =>
    Number(
      (
        await c.cloud.database.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirst()
      )?.n,
    );

  it('cleans project, endpoint and domain associations', async () => {
    const t = c.adminToken;
    const project = await c.makeProject();
    const eg = await c.request('POST', '/v3/OS-EP-FILTER/endpoint_groups', {
      token: t,
      body: { endpoint_group: { name: 'eg', filters: { interface: 'public' } } },
    });
    assert.equal(eg.status, 201, eg.text);
    const egId = eg.body.endpoint_group.id as string;
    assert.equal(
      (await c.request('PUT', `/v3/OS-EP-FILTER/endpoint_groups/${egId}/projects/${project}`, { token: t }))
        .status,
      204,
    );
    const svc = await c.request('POST', '/v3/services', {
      token: t,
      body: { service: { type: 'test-svc', name: 'x' } },
    });
    const ep = await c.request('POST', '/v3/endpoints', {
      token: t,
      body: { endpoint: { service_id: svc.body.service.id, interface: 'public', url: 'http://192.0.2.9/x' } },
    });
    assert.equal(
      (
        await c.request('PUT', `/v3/OS-EP-FILTER/projects/${project}/endpoints/${ep.body.endpoint.id}`, {
          token: t,
        })
      ).status,
      204,
    );
    assert.equal(await rows('identity_project_endpoint_groups'), 1);
    assert.equal(await rows('identity_project_endpoints'), 1);

    assert.equal(
      (await c.request('DELETE', `/v3/endpoints/${ep.body.endpoint.id}`, { token: t })).status,
      204,
    );
    assert.equal(await rows('identity_project_endpoints'), 0);
    assert.equal((await c.request('DELETE', `/v3/projects/${project}`, { token: t })).status, 204);
    assert.equal(await rows('identity_project_endpoint_groups'), 0);

    const dom = await c.request('POST', '/v3/domains', {
      token: t,
      body: { domain: { name: 'configured' } },
    });
    const domId = dom.body.domain.id as string;
    const cfg = await c.request('PUT', `/v3/domains/${domId}/config`, {
      token: t,
      body: { config: { identity: { driver: 'sql' } } },
    });
    assert.equal(cfg.status, 201, cfg.text);
    assert.ok((await rows('identity_domain_configs')) > 0);
    await c.request('PATCH', `/v3/domains/${domId}`, { token: t, body: { domain: { enabled: false } } });
    assert.equal((await c.request('DELETE', `/v3/domains/${domId}`, { token: t })).status, 204);
    assert.equal(await rows('identity_domain_configs'), 0);
  });
});
