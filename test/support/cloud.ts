// The in-process test cloud: SQLite in memory, fixed Fernet keys, a cheap bcrypt cost, HTTP through fastify's
// inject (the real handlers, no socket). Every api test starts one.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Cloud, createCloud } from '../../src/compose/cloud.ts';
import { type DeepPartial, loadConfig, type MonostackConfig } from '../../src/platform/config.ts';
import { createLogger } from '../../src/platform/log.ts';
import { generateKey, parseKey } from '../../src/services/identity/tokens/fernet.ts';

export interface TestResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON.
  body: any;
  text: string;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** A raw body string (e.g. malformed JSON); sent with content-type application/json unless headers say otherwise. */
  raw?: string;
  headers?: Record<string, string>;
}

export interface TestUser {
  id: string;
  name: string;
  password: string;
  projectId: string;
  /** A token scoped to projectId. */
  token: string;
}

export interface TestCloud {
  readonly cloud: Cloud;
  readonly adminPassword: string;
  readonly demoPassword: string;
  /** Project-scoped admin token (admin user on the admin project). */
  readonly adminToken: string;
  readonly adminUserId: string;
  readonly adminProjectId: string;
  readonly demoProjectId: string;
  request(method: string, path: string, opts?: RequestOptions): Promise<TestResponse>;
  /** Password authentication; returns the token or throws with the response. */
  login(opts: {
    userId?: string;
    username?: string;
    domain?: string;
    password: string;
    projectId?: string;
    domainId?: string;
    system?: boolean;
  }): Promise<string>;
  /** A new user with `role` (default member) on `projectId` (default: a new project). */
  makeUser(opts?: { projectId?: string; role?: string; name?: string; password?: string }): Promise<TestUser>;
  /** A new project in the default domain; returns its id. */
  makeProject(name?: string): Promise<string>;
  roleId(name: string): Promise<string>;
  settle(): Promise<void>;
  close(): Promise<void>;
}

let counter = 0;
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 6)}`;
}

export async function startTestCloud(over: DeepPartial<MonostackConfig> = {}): Promise<TestCloud> {
  const dir = await mkdtemp(join(tmpdir(), 'monostack-test-'));
  const config = loadConfig({
    env: {},
    flags: {
      ...over,
      data_dir: dir,
      public_url: over.public_url ?? 'http://localhost',
      database: { url: over.database?.url ?? 'sqlite::memory:' },
      identity: { password_hash_rounds: 4, ...over.identity } as MonostackConfig['identity'],
      // The fake hypervisor, no test image, no metadata listener, unless a test asks otherwise.
      compute: {
        driver: 'fake',
        test_image: false,
        ...over.compute,
        metadata: { enabled: false, ...over.compute?.metadata },
      } as MonostackConfig['compute'],
      // The fake data plane and no first-use networks, unless a test asks otherwise.
      network: {
        dataplane: 'fake',
        ...over.network,
        bootstrap: { enabled: false, ...over.network?.bootstrap },
      } as MonostackConfig['network'],
    },
  });
  const keys = [parseKey(generateKey()), parseKey(generateKey())];
  const adminPassword = 'admin-secret';
  const demoPassword = 'demo-secret';
  const cloud = await createCloud({
    config,
    log: createLogger({ level: process.env['MONOSTACK_TEST_LOG'] ?? 'silent' }),
    passwords: { admin: adminPassword, demo: demoPassword, service: 'service-secret' },
    keys: () => keys,
  });

  const request = async (method: string, path: string, opts: RequestOptions = {}): Promise<TestResponse> => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers['x-auth-token'] = opts.token;
    let payload: string | undefined;
    if (opts.raw !== undefined) payload = opts.raw;
    else if (opts.body !== undefined) payload = JSON.stringify(opts.body);
    if (payload !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json';
    }
    const res = await cloud.app.inject({ method: method as 'GET', url: path, headers, payload });
    let body: unknown;
    if (res.body && String(res.headers['content-type'] ?? '').includes('json')) {
      try {
        body = JSON.parse(res.body);
      } catch {
        body = undefined;
      }
    }
    return { status: res.statusCode, headers: res.headers as TestResponse['headers'], body, text: res.body };
  };

  const login: TestCloud['login'] = async (o) => {
    const user: Record<string, unknown> = { password: o.password };
    if (o.userId) user['id'] = o.userId;
    else {
      user['name'] = o.username;
      user['domain'] = { id: o.domain ?? 'default' };
    }
    const auth: Record<string, unknown> = { identity: { methods: ['password'], password: { user } } };
    if (o.projectId) auth['scope'] = { project: { id: o.projectId } };
    else if (o.domainId) auth['scope'] = { domain: { id: o.domainId } };
    else if (o.system) auth['scope'] = { system: { all: true } };
    const res = await request('POST', '/v3/auth/tokens', { body: { auth } });
    if (res.status !== 201) throw new Error(`login failed: ${res.status} ${res.text}`);
    return String(res.headers['x-subject-token']);
  };

  const adminProjectId = cloud.bootstrap.adminProjectId;
  const adminToken = await login({ username: 'admin', password: adminPassword, projectId: adminProjectId });
  const me = await request('GET', '/v3/auth/tokens', {
    token: adminToken,
    headers: { 'x-subject-token': adminToken },
  });
  const adminUserId = me.body.token.user.id as string;

  const roles = new Map<string, string>();
  const roleId = async (name: string) => {
    if (!roles.has(name)) {
      const rows = await cloud.database.db.selectFrom('identity_roles').select(['id', 'name']).execute();
      for (const r of rows as { id: string; name: string }[]) roles.set(r.name, r.id);
    }
    const id = roles.get(name);
    if (!id) throw new Error(`no role ${name}`);
    return id;
  };

  const makeProject = async (name = uniqueName('project')) => {
    const res = await request('POST', '/v3/projects', {
      token: adminToken,
      body: { project: { name, domain_id: 'default' } },
    });
    if (res.status === 201) return res.body.project.id as string;
    // Before the projects API exists, write the row directly.
    if (res.status !== 404) throw new Error(`project create failed: ${res.status} ${res.text}`);
    const id = cloud.identity.context.ids.hexId();
    await cloud.identity.context.write(async (trx) => {
      await trx
        .insertInto('identity_projects')
        .values({
          id,
          name,
          domain_id: 'default',
          parent_id: null,
          description: '',
          enabled: 1,
          extra: '{}',
          created_at: new Date().toISOString(),
        })
        .execute();
    });
    return id;
  };

  const makeUser: TestCloud['makeUser'] = async (o = {}) => {
    const projectId = o.projectId ?? (await makeProject());
    const name = o.name ?? uniqueName('user');
    const password = o.password ?? `pw-${name}`;
    const res = await request('POST', '/v3/users', {
      token: adminToken,
      body: { user: { name, password, domain_id: 'default' } },
    });
    if (res.status !== 201) throw new Error(`user create failed: ${res.status} ${res.text}`);
    const id = res.body.user.id as string;
    const rid = await roleId(o.role ?? 'member');
    const grant = await request('PUT', `/v3/projects/${projectId}/users/${id}/roles/${rid}`, {
      token: adminToken,
    });
    if (grant.status !== 204) {
      if (grant.status !== 404) throw new Error(`grant failed: ${grant.status} ${grant.text}`);
      // Before the grants API exists, write the assignment directly.
      await cloud.identity.context.write(async (trx) => {
        await trx
          .insertInto('identity_assignments')
          .values({ type: 'UserProject', actor_id: id, target_id: projectId, role_id: rid, inherited: 0 })
          .execute();
      });
    }
    const token = await login({ userId: id, password, projectId });
    return { id, name, password, projectId, token };
  };

  return {
    cloud,
    adminPassword,
    demoPassword,
    adminToken,
    adminUserId,
    adminProjectId,
    demoProjectId: cloud.bootstrap.demoProjectId,
    request,
    login,
    makeUser,
    makeProject,
    roleId,
    settle: () => cloud.settle(),
    async close() {
      await cloud.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
