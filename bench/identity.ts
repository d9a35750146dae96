// Identity benchmark: token issue (password, application credential) and validation at concurrency 1 and 16,
// GET /v3/auth/projects for a user in 5 projects, GET /v3/projects over 1,000 projects, and RSS idle and
// under load — against a real `monostack up` (bcrypt cost 12, as Keystone) on loopback.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { startProcessCloud } from '../test/support/process-cloud.ts';
import { fmt, haveWrk, load, once, type Req, rssMiB, withPeakRss, wrkLoad } from './load.ts';

interface Clouds {
  clouds: Record<string, { auth: { password: string } }>;
}

export async function identityBench(): Promise<void> {
  const cloud = await startProcessCloud();
  const pid = cloud.child.pid!;
  const base = cloud.url;
  const line = (label: string, text: string) => process.stdout.write(`${label.padEnd(44)} ${text}\n`);
  // Read-only loads run under wrk when installed (the Node client would eat the core the server needs).
  const fast = (reqs: Req[], c: number) =>
    haveWrk()
      ? wrkLoad(base, reqs, { concurrency: c, seconds: 5 })
      : load(base, (i) => reqs[i % reqs.length]!, {
          count: c === 1 ? 3000 : 20000,
          concurrency: c,
          maxSeconds: 10,
        });
  try {
    await new Promise((r) => setTimeout(r, 1500));
    const idle = rssMiB(pid);
    const clouds = parse(await readFile(join(cloud.dataDir, 'clouds.yaml'), 'utf8')) as Clouds;
    const adminPassword = clouds.clouds['monostack']!.auth.password;
    const pwBody = JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'admin', domain: { id: 'default' }, password: adminPassword } },
        },
        scope: { project: { name: 'admin', domain: { id: 'default' } } },
      },
    });
    const first = await once(base, { method: 'POST', path: '/v3/auth/tokens', body: pwBody });
    const admin = String(first.headers['x-subject-token']);
    const h = { 'x-auth-token': admin };
    const adminUserId = (JSON.parse(first.body) as { token: { user: { id: string } } }).token.user.id;

    // Tokens to validate: many distinct ones, minted cheaply by rescoping (no KDF).
    const unscoped = String(
      (
        await once(base, {
          method: 'POST',
          path: '/v3/auth/tokens',
          body: JSON.stringify({ auth: { identity: JSON.parse(pwBody).auth.identity } }),
        })
      ).headers['x-subject-token'],
    );
    const tokens: string[] = [];
    for (let i = 0; i < 200; i++) {
      const r = await once(base, {
        method: 'POST',
        path: '/v3/auth/tokens?nocatalog',
        body: JSON.stringify({
          auth: {
            identity: { methods: ['token'], token: { id: unscoped } },
            scope: { project: { name: 'admin', domain: { id: 'default' } } },
          },
        }),
      });
      tokens.push(String(r.headers['x-subject-token']));
    }

    // A user in 5 projects, and 1,000 projects in all.
    const userPw = 'bench-user-password';
    const u = await once(base, {
      method: 'POST',
      path: '/v3/users',
      headers: h,
      body: JSON.stringify({ user: { name: 'bench-user', password: userPw } }),
    });
    const userId = (JSON.parse(u.body) as { user: { id: string } }).user.id;
    const roles = JSON.parse(
      (await once(base, { method: 'GET', path: '/v3/roles?name=member', headers: h })).body,
    ) as { roles: { id: string }[] };
    const member = roles.roles[0]!.id;
    const projectIds: string[] = [];
    const made = await load(
      base,
      (i) => ({
        method: 'POST',
        path: '/v3/projects',
        headers: h,
        body: JSON.stringify({ project: { name: `bench-${i}`, domain_id: 'default' } }),
        expect: 201,
      }),
      { count: 997, concurrency: 8, maxSeconds: 120 },
    );
    line('create 997 projects (c=8)', fmt(made));
    const all = JSON.parse((await once(base, { method: 'GET', path: '/v3/projects', headers: h })).body) as {
      projects: { id: string; name: string }[];
    };
    for (const p of all.projects)
      if (p.name.startsWith('bench-') && projectIds.length < 5) projectIds.push(p.id);
    for (const p of projectIds)
      await once(base, {
        method: 'PUT',
        path: `/v3/projects/${p}/users/${userId}/roles/${member}`,
        headers: h,
      });
    const userTok = String(
      (
        await once(base, {
          method: 'POST',
          path: '/v3/auth/tokens',
          body: JSON.stringify({
            auth: {
              identity: { methods: ['password'], password: { user: { id: userId, password: userPw } } },
              scope: { project: { id: projectIds[0] } },
            },
          }),
        })
      ).headers['x-subject-token'],
    );

    // An application credential of the admin.
    const ac = JSON.parse(
      (
        await once(base, {
          method: 'POST',
          path: `/v3/users/${adminUserId}/application_credentials`,
          headers: h,
          body: JSON.stringify({ application_credential: { name: 'bench' } }),
        })
      ).body,
    ) as { application_credential: { id: string; secret: string } };
    const acBody = JSON.stringify({
      auth: {
        identity: {
          methods: ['application_credential'],
          application_credential: {
            id: ac.application_credential.id,
            secret: ac.application_credential.secret,
          },
        },
      },
    });

    process.stdout.write(
      `\nMonostack identity benchmark (${all.projects.length} projects; bcrypt cost 12; loopback; load by ${haveWrk() ? 'wrk' : 'a Node client'} on the same 2 cores)\n\n`,
    );
    line(
      'RSS idle (whole all-in-one)',
      `${idle.toFixed(1)} MiB   (goal ≤ 120 MiB; Keystone 305 MiB for 3 processes)`,
    );
    const { result: r, peak } = await withPeakRss(pid, async () => {
      const out: [string, string][] = [];
      for (const c of [1, 16]) {
        const pw = await load(
          base,
          () => ({ method: 'POST', path: '/v3/auth/tokens?nocatalog', body: pwBody, expect: 201 }),
          { count: c === 1 ? 15 : 48, concurrency: c, maxSeconds: 30 },
        );
        out.push([`password token issue c=${c}`, `${fmt(pw)}   (Keystone ~4.7/s c=1, 9.2/s c=8)`]);
        const acr = await load(
          base,
          () => ({ method: 'POST', path: '/v3/auth/tokens?nocatalog', body: acBody, expect: 201 }),
          { count: c === 1 ? 15 : 48, concurrency: c, maxSeconds: 30 },
        );
        out.push([`app credential token issue c=${c}`, fmt(acr)]);
        const v = await fast(
          tokens.map((t) => ({
            method: 'GET',
            path: '/v3/auth/tokens',
            headers: { 'x-auth-token': admin, 'x-subject-token': t },
          })),
          c,
        );
        out.push([`token validate c=${c}`, `${fmt(v)}   (goal ≥ 10,000/s; Keystone ~28/s c=1, 57/s c=8)`]);
        const ap = await fast(
          [{ method: 'GET', path: '/v3/auth/projects', headers: { 'x-auth-token': userTok } }],
          c,
        );
        out.push([`GET /v3/auth/projects (5 projects) c=${c}`, `${fmt(ap)}   (goal ≥ 3,000/s)`]);
        const lp = await fast([{ method: 'GET', path: '/v3/projects', headers: h }], c);
        out.push([
          `GET /v3/projects (1,000 projects) c=${c}`,
          `${fmt(lp)}   (goal p50 ≤ 25 ms; Keystone ~31/s)`,
        ]);
      }
      return out;
    });
    for (const [l, t] of r) line(l, t);
    line('RSS peak under load', `${peak.toFixed(1)} MiB`);
    line('RSS after load', `${rssMiB(pid).toFixed(1)} MiB`);
  } finally {
    await cloud.stop();
  }
}
