// The metadata proxy alone (no namespaces): lookup by network and source address, signing, 404/400, upstream errors.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { instanceSignature, MetadataProxy } from '../../../src/agent/network/metadata-proxy.ts';

function call(
  socketPath: string,
  path: string,
  headers: Record<string, string>,
  method = 'GET',
  body?: string,
) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ socketPath, path, method, headers }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => {
        b += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('MetadataProxy', () => {
  let dir: string;
  let api: Server;
  let proxy: MetadataProxy;
  const seen: { method?: string; url?: string; headers: IncomingHttpHeaders; body: string }[] = [];
  const lookups: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mdp-'));
    api = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        res.writeHead(req.url?.startsWith('/teapot') ? 418 : 200, { 'x-from': 'api' });
        res.end(`hello ${req.headers['x-instance-id']}`);
      });
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    proxy = new MetadataProxy({
      socketPath: join(dir, 'md.sock'),
      targetUrl: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
      secret: 'top',
      controlPlane: {
        async metadataInstance(networkId, ip) {
          lookups.push(`${networkId} ${ip}`);
          return networkId === 'n1' && ip === '10.0.0.5'
            ? { instanceId: 'i-1', projectId: 'p-1' }
            : undefined;
        },
      },
    });
    await proxy.start();
  });
  after(async () => {
    await proxy.close();
    api.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('signs and forwards, using the last X-Forwarded-For hop, passing status, headers and body through', async () => {
    const r = await call(proxy.socketPath, '/teapot?x=1', {
      'x-neutron-network-id': 'n1',
      'x-forwarded-for': '6.6.6.6, 10.0.0.5',
      'x-instance-id': 'forged',
    });
    assert.equal(r.status, 418);
    assert.equal(r.body, 'hello i-1');
    const h = seen.at(-1)!;
    assert.equal(h.url, '/teapot?x=1');
    assert.equal(h.headers['x-instance-id'], 'i-1');
    assert.equal(h.headers['x-tenant-id'], 'p-1');
    assert.equal(h.headers['x-forwarded-for'], '10.0.0.5');
    assert.equal(
      h.headers['x-instance-id-signature'],
      createHmac('sha256', 'top').update('i-1').digest('hex'),
    );
    assert.equal(instanceSignature('top', 'i-1'), h.headers['x-instance-id-signature']);
    assert.equal(lookups.at(-1), 'n1 10.0.0.5');
  });

  it('forwards POST bodies (password posts)', async () => {
    const r = await call(
      proxy.socketPath,
      '/openstack/2013-04-04/password',
      { 'x-neutron-network-id': 'n1', 'x-forwarded-for': '10.0.0.5', 'content-length': '6' },
      'POST',
      'secret',
    );
    assert.equal(r.status, 200);
    assert.equal(seen.at(-1)?.method, 'POST');
    assert.equal(seen.at(-1)?.body, 'secret');
  });

  it('answers 404 for unknown addresses and 400 without the haproxy headers', async () => {
    const n = seen.length;
    assert.equal(
      (await call(proxy.socketPath, '/', { 'x-neutron-network-id': 'n2', 'x-forwarded-for': '10.0.0.5' }))
        .status,
      404,
    );
    assert.equal((await call(proxy.socketPath, '/', { 'x-forwarded-for': '10.0.0.5' })).status, 400);
    assert.equal(seen.length, n);
  });

  it('answers 502 when the metadata API is down', async () => {
    const down = new MetadataProxy({
      socketPath: join(dir, 'down.sock'),
      targetUrl: 'http://127.0.0.1:9',
      secret: 's',
      controlPlane: { metadataInstance: async () => ({ instanceId: 'i', projectId: 'p' }) },
    });
    await down.start();
    try {
      assert.equal(
        (await call(down.socketPath, '/', { 'x-neutron-network-id': 'n', 'x-forwarded-for': '10.0.0.5' }))
          .status,
        502,
      );
    } finally {
      await down.close();
    }
  });
});
