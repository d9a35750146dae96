// First-start bootstrap (as keystone-manage bootstrap + DevStack): default domain, admin/demo/service projects
// and users, admin→member→reader roles, RegionOne, and a catalog entry for every Monostack service.
// Idempotent: runs on every start, creates what is missing and moves built-in endpoints to the current URL.

import { PasswordRules } from './api/users.ts';
import type { IdentityContext, IdentityTrx } from './context.ts';

export interface BootstrapPasswords {
  admin: string;
  demo: string;
  service: string;
}

export interface CatalogEntry {
  type: string;
  name: string;
  description: string;
  /** Path appended to the public URL; may hold $(project_id)s. */
  path: string;
}

/** Every service of the all-in-one, at its default path on the one listener. */
export const BUILTIN_CATALOG: readonly CatalogEntry[] = Object.freeze([
  { type: 'identity', name: 'keystone', description: 'Identity Service', path: '/v3' },
  { type: 'compute', name: 'nova', description: 'Compute Service', path: '/compute/v2.1' },
  { type: 'placement', name: 'placement', description: 'Placement Service', path: '/placement' },
  { type: 'image', name: 'glance', description: 'Image Service', path: '/image' },
  { type: 'network', name: 'neutron', description: 'Networking Service', path: '/network' },
  { type: 'block-storage', name: 'cinder', description: 'Block Storage Service', path: '/volume/v3' },
  { type: 'volumev3', name: 'cinderv3', description: 'Block Storage Service (v3)', path: '/volume/v3' },
  {
    type: 'object-store',
    name: 'swift',
    description: 'Object Storage Service',
    path: '/object/v1/AUTH_$(project_id)s',
  },
  {
    type: 'orchestration',
    name: 'heat',
    description: 'Orchestration Service',
    path: '/orchestration/v1/$(project_id)s',
  },
  { type: 'dashboard', name: 'horizon', description: 'Dashboard', path: '/dashboard' },
]);

export const BOOTSTRAP_IDS = Object.freeze({ domain: 'default', region: 'RegionOne' });

export interface BootstrapResult {
  created: boolean;
  adminProjectId: string;
  demoProjectId: string;
}

export async function bootstrapIdentity(
  ix: IdentityContext,
  opts: { publicUrl: string; region: string; passwords: BootstrapPasswords },
): Promise<BootstrapResult> {
  const rules = new PasswordRules(ix);
  const hashes = {
    admin: await ix.passwords.hash(opts.passwords.admin),
    demo: await ix.passwords.hash(opts.passwords.demo),
    service: await ix.passwords.hash(opts.passwords.service),
  };
  return ix.write(async (trx, record) => {
    const now = ix.nowIso();
    const existing = await trx
      .selectFrom('identity_domains')
      .select('id')
      .where('id', '=', 'default')
      .executeTakeFirst();
    const created = !existing;
    if (created) {
      await trx
        .insertInto('identity_domains')
        .values({
          id: 'default',
          name: 'Default',
          description: 'The default domain',
          enabled: 1,
          extra: '{}',
          created_at: now,
        })
        .execute();
      record({ kind: 'domain', id: 'default', action: 'create' });
    }
    const role = async (name: string) => ensureRole(ix, trx, name);
    const admin = await role('admin');
    const member = await role('member');
    const reader = await role('reader');
    const service = await role('service');
    if (created) {
      await imply(trx, admin, member);
      await imply(trx, member, reader);
    }
    const project = async (name: string, description: string) => ensureProject(ix, trx, name, description);
    const adminProject = await project('admin', 'Bootstrap project for initializing the cloud.');
    const demoProject = await project('demo', 'Demo project for first use.');
    const serviceProject = await project('service', 'Project of the service users.');
    if (created) {
      const user = async (name: string, hash: string) => {
        const id = ix.ids.hexId();
        await trx
          .insertInto('identity_users')
          .values({
            id,
            name,
            domain_id: 'default',
            enabled: 1,
            default_project_id: null,
            password_hash: null,
            password_created_at: null,
            password_expires_at: null,
            failed_auth_count: 0,
            failed_auth_at: null,
            last_active_at: null,
            // Bootstrap users must never be locked out or forced to change passwords.
            options: JSON.stringify({
              ignore_lockout_failure_attempts: true,
              ignore_password_expiry: true,
              ignore_change_password_upon_first_use: true,
            }),
            extra: '{}',
            created_at: now,
          })
          .execute();
        await rules.store(trx, id, hash, null);
        record({ kind: 'user', id, action: 'create' });
        return id;
      };
      const grant = async (
        type: 'UserProject' | 'UserSystem',
        actor: string,
        target: string,
        roleId: string,
      ) =>
        trx
          .insertInto('identity_assignments')
          .values({ type, actor_id: actor, target_id: target, role_id: roleId, inherited: 0 })
          .execute();
      const adminUser = await user('admin', hashes.admin);
      await grant('UserProject', adminUser, adminProject, admin);
      await grant('UserSystem', adminUser, 'system', admin);
      const demoUser = await user('demo', hashes.demo);
      await grant('UserProject', demoUser, demoProject, member);
      const serviceUser = await user('monostack', hashes.service);
      await grant('UserProject', serviceUser, serviceProject, admin);
      await grant('UserProject', serviceUser, serviceProject, service);
    }
    await ensureCatalog(ix, trx, opts.publicUrl, opts.region);
    record({ kind: 'catalog', id: 'builtin', action: 'update' });
    return { created, adminProjectId: adminProject, demoProjectId: demoProject };
  });
}

async function ensureRole(ix: IdentityContext, trx: IdentityTrx, name: string): Promise<string> {
  const row = await trx
    .selectFrom('identity_roles')
    .select('id')
    .where('name', '=', name)
    .where('domain_id', '=', '<<null>>')
    .executeTakeFirst();
  if (row) return row.id;
  const id = ix.ids.hexId();
  await trx
    .insertInto('identity_roles')
    .values({ id, name, domain_id: '<<null>>', description: '', options: '{}', extra: '{}' })
    .execute();
  return id;
}

async function imply(trx: IdentityTrx, prior: string, implied: string): Promise<void> {
  const row = await trx
    .selectFrom('identity_implied_roles')
    .select('prior_role_id')
    .where('prior_role_id', '=', prior)
    .where('implied_role_id', '=', implied)
    .executeTakeFirst();
  if (!row)
    await trx
      .insertInto('identity_implied_roles')
      .values({ prior_role_id: prior, implied_role_id: implied })
      .execute();
}

async function ensureProject(
  ix: IdentityContext,
  trx: IdentityTrx,
  name: string,
  description: string,
): Promise<string> {
  const row = await trx
    .selectFrom('identity_projects')
    .select('id')
    .where('domain_id', '=', 'default')
    .where('name', '=', name)
    .executeTakeFirst();
  if (row) return row.id;
  const id = ix.ids.hexId();
  await trx
    .insertInto('identity_projects')
    .values({
      id,
      name,
      domain_id: 'default',
      parent_id: null,
      description,
      enabled: 1,
      extra: '{}',
      created_at: ix.nowIso(),
    })
    .execute();
  return id;
}

async function ensureCatalog(
  ix: IdentityContext,
  trx: IdentityTrx,
  publicUrl: string,
  region: string,
): Promise<void> {
  const r = await trx.selectFrom('identity_regions').select('id').where('id', '=', region).executeTakeFirst();
  if (!r)
    await trx
      .insertInto('identity_regions')
      .values({ id: region, description: '', parent_region_id: null, extra: '{}' })
      .execute();
  const services = await trx.selectFrom('identity_services').selectAll().execute();
  for (const entry of BUILTIN_CATALOG) {
    let svc = services.find(
      (s) => s.type === entry.type && (JSON.parse(s.extra) as { name?: string }).name === entry.name,
    );
    if (!svc) {
      svc = {
        id: ix.ids.hexId(),
        type: entry.type,
        enabled: 1,
        extra: JSON.stringify({ name: entry.name, description: entry.description }),
      };
      await trx.insertInto('identity_services').values(svc).execute();
    }
    const url = `${publicUrl}${entry.path}`;
    const eps = await trx
      .selectFrom('identity_endpoints')
      .selectAll()
      .where('service_id', '=', svc.id)
      .execute();
    for (const iface of ['public', 'internal', 'admin']) {
      const ep = eps.find((e) => e.interface === iface && e.region_id === region);
      if (!ep) {
        await trx
          .insertInto('identity_endpoints')
          .values({
            id: ix.ids.hexId(),
            service_id: svc.id,
            interface: iface,
            url,
            region_id: region,
            enabled: 1,
            extra: '{}',
          })
          .execute();
      } else if (ep.url !== url) {
        await trx.updateTable('identity_endpoints').set({ url }).where('id', '=', ep.id).execute();
      }
    }
  }
}
