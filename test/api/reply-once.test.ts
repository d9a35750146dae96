// A handler that answers through ctx.reply itself (as GET /metrics does) is answered once: the client gets its body
// and fastify logs no "Reply was already sent" (the app used to send the handler's result after it).
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createHttpApp } from '../../src/platform/http/app.ts';
import { createLogger } from '../../src/platform/log.ts';
import { Metrics } from '../../src/platform/metrics.ts';
import { startTestCloud, type TestCloud } from '../support/cloud.ts';

let tc: TestCloud;
let app: FastifyInstance;
let logged = '';

before(async () => {
  tc = await startTestCloud();
  const sink = new PassThrough();
  sink.on('data', (b: Buffer) => {
    logged += b.toString();
  });
  app = await createHttpApp({
    services: [
      {
        name: 'probe',
        prefixes: ['/probe'],
        dialect: tc.cloud.identity.http.dialect,
        policy: tc.cloud.identity.http.policy,
        routes: [
          {
            method: 'GET',
            path: '/probe/text',
            auth: 'none',
            async handler(ctx) {
              void ctx.reply.type('text/plain').send('answered by the handler');
              return { body: undefined };
            },
          },
        ],
      },
    ],
    authenticate: tc.cloud.identity.authenticate,
    log: createLogger({ level: 'debug', destination: sink }),
    metrics: new Metrics(),
    bodyLimit: 1 << 20,
  });
});

after(async () => {
  await app.close();
  await tc.close();
});

test('a reply the handler sent itself is the one the client gets, sent once', async () => {
  const res = await app.inject({ method: 'GET', url: '/probe/text' });
  assert.equal(res.statusCode, 200);
  assert.equal(res.body, 'answered by the handler');
  assert.match(String(res.headers['content-type']), /^text\/plain/);
  await new Promise((r) => setImmediate(r));
  assert.doesNotMatch(logged, /already sent/i);
  assert.match(logged, /"url":"\/probe\/text"/, 'the debug request line was logged (the sink works)');
});
