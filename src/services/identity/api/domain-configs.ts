// /v3/domains/{domain_id}/config[/{group}[/{option}]] and /v3/domains/config[/{group}[/{option}]]/default: Keystone's
// domain-specific configuration API (keystone/api/domains.py DomainConfig*, resource/core.py DomainConfigManager,
// resource/config_backends/sql.py).
//
// Stored only: the options are kept and served back, but nothing reads them: there is no LDAP identity driver,
// and every domain keeps using the SQL backend whatever its config says.
// Deleting a domain does not yet remove its config rows (Keystone does); reads check the domain first, so a
// leftover config of a deleted domain is never served.
import { ApiError } from '../../../platform/errors.ts';
import type { Route, RouteContext } from '../../../platform/http/types.ts';
import { BOOTSTRAP_IDS } from '../bootstrap.ts';
import type { IdentityContext } from '../context.ts';
import { IdentityErrors } from '../errors.ts';
import type { DomainConfigRow, ExtrasDb, ExtrasTrx } from '../store/extras-tables.ts';
import type { IdentityReader } from '../store/reader.ts';
import { pyRepr } from './projects.schema.ts';

type Body = Record<string, unknown>;
type Config = Record<string, Record<string, unknown>>;

/** The options a domain may set, per group (DomainConfigManager.whitelisted_options). */
export const WHITELISTED_OPTIONS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  identity: ['driver', 'list_limit'],
  ldap: [
    'url',
    'user',
    'suffix',
    'query_scope',
    'page_size',
    'alias_dereferencing',
    'debug_level',
    'chase_referrals',
    'user_tree_dn',
    'user_filter',
    'user_objectclass',
    'user_id_attribute',
    'user_name_attribute',
    'user_mail_attribute',
    'user_description_attribute',
    'user_pass_attribute',
    'user_enabled_attribute',
    'user_enabled_invert',
    'user_enabled_mask',
    'user_enabled_default',
    'user_attribute_ignore',
    'user_default_project_id_attribute',
    'user_enabled_emulation',
    'user_enabled_emulation_dn',
    'user_enabled_emulation_use_group_config',
    'user_additional_attribute_mapping',
    'group_tree_dn',
    'group_filter',
    'group_objectclass',
    'group_id_attribute',
    'group_name_attribute',
    'group_members_are_ids',
    'group_member_attribute',
    'group_desc_attribute',
    'group_attribute_ignore',
    'group_additional_attribute_mapping',
    'tls_cacertfile',
    'tls_cacertdir',
    'use_tls',
    'tls_req_cert',
    'use_pool',
    'pool_size',
    'pool_retry_max',
    'pool_retry_delay',
    'pool_connection_timeout',
    'pool_connection_lifetime',
    'use_auth_pool',
    'auth_pool_size',
    'auth_pool_connection_lifetime',
  ],
});

/** Options stored but never shown (DomainConfigManager.sensitive_options). */
export const SENSITIVE_OPTIONS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  identity: [],
  ldap: ['password'],
});

/** Keystone's defaults of the whitelisted options ([identity] and [ldap] of keystone.conf, unset). */
export const DEFAULT_OPTIONS: Readonly<Record<string, Readonly<Body>>> = Object.freeze({
  identity: { driver: 'sql', list_limit: null },
  ldap: {
    url: 'ldap://localhost',
    user: null,
    suffix: 'cn=example,cn=com',
    query_scope: 'one',
    page_size: 0,
    alias_dereferencing: 'default',
    debug_level: null,
    chase_referrals: null,
    user_tree_dn: null,
    user_filter: null,
    user_objectclass: 'inetOrgPerson',
    user_id_attribute: 'cn',
    user_name_attribute: 'sn',
    user_mail_attribute: 'mail',
    user_description_attribute: 'description',
    user_pass_attribute: 'userPassword',
    user_enabled_attribute: 'enabled',
    user_enabled_invert: false,
    user_enabled_mask: 0,
    user_enabled_default: 'True',
    user_attribute_ignore: ['default_project_id'],
    user_default_project_id_attribute: null,
    user_enabled_emulation: false,
    user_enabled_emulation_dn: null,
    user_enabled_emulation_use_group_config: false,
    user_additional_attribute_mapping: [],
    group_tree_dn: null,
    group_filter: null,
    group_objectclass: 'groupOfNames',
    group_id_attribute: 'cn',
    group_name_attribute: 'ou',
    group_members_are_ids: false,
    group_member_attribute: 'member',
    group_desc_attribute: 'description',
    group_attribute_ignore: [],
    group_additional_attribute_mapping: [],
    tls_cacertfile: null,
    tls_cacertdir: null,
    use_tls: false,
    tls_req_cert: 'demand',
    use_pool: true,
    pool_size: 10,
    pool_retry_max: 3,
    pool_retry_delay: 0.1,
    pool_connection_timeout: -1,
    pool_connection_lifetime: 600,
    use_auth_pool: true,
    auth_pool_size: 100,
    auth_pool_connection_lifetime: 60,
  },
});

const SECURITY_COMPLIANCE = 'security_compliance';
const READABLE_SECURITY_OPTIONS = ['password_regex', 'password_regex_description'] as const;

/** InvalidDomainConfig: a Forbidden whose reason Keystone shows even without insecure_debug. */
const invalid = (reason: string) =>
  new ApiError(403, 'InvalidDomainConfig', `Invalid domain specific configuration: ${reason}.`);
const configNotFound = (domainId: string, what: string) =>
  new ApiError(
    404,
    'DomainConfigNotFound',
    `Could not find ${what} in domain configuration for domain ${domainId}.`,
  );
const whatOf = (group?: string, option?: string) =>
  option ? `option ${option} in group ${group}` : group ? `group ${group}` : 'any options';

const isDict = (v: unknown): v is Body => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Python's truthiness of a JSON value. */
function pyTruthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isDict(v)) return Object.keys(v).length > 0;
  return true;
}

const isGroup = (group: string) =>
  Object.hasOwn(WHITELISTED_OPTIONS, group) || Object.hasOwn(SENSITIVE_OPTIONS, group);
const isSensitive = (group: string, option: string) => (SENSITIVE_OPTIONS[group] ?? []).includes(option);

/** DomainConfigManager._assert_valid_group_and_option. */
function assertValidGroupAndOption(group?: string, option?: string): void {
  if (!group) return;
  if (!isGroup(group)) throw invalid(`Group ${group} is not supported for domain specific configurations`);
  if (option && !(WHITELISTED_OPTIONS[group] ?? []).includes(option) && !isSensitive(group, option)) {
    throw invalid(`Option ${option} in group ${group} is not supported for domain specific configurations`);
  }
}

/** DomainConfigManager._assert_valid_config: a non-empty dict of non-empty dicts of supported options. */
function assertValidConfig(config: unknown): asserts config is Config {
  if (!pyTruthy(config)) throw invalid('No options specified');
  // Keystone fails with a 500 on a config that is not an object; say what is wrong instead.
  if (!isDict(config))
    throw IdentityErrors.validation(
      `Invalid input for field 'config': ${pyRepr(config)} is not of type 'object'`,
    );
  for (const [group, options] of Object.entries(config)) {
    if (!pyTruthy(options) || !isDict(options)) {
      throw invalid(`The value of group ${group} specified in the config should be a dictionary of options`);
    }
    for (const option of Object.keys(options)) assertValidGroupAndOption(group, option);
  }
}

/** DomainConfigManager._list_to_config: nested by group, or just {option: value} for one requested option. */
function listToConfig(rows: DomainConfigRow[], reqOption?: string): Body {
  if (rows.length === 0) return {};
  if (reqOption) {
    const r = rows[0] as DomainConfigRow;
    return { [r.option_name]: JSON.parse(r.value) as unknown };
  }
  const out: Config = {};
  for (const r of rows) {
    out[r.group_name] ??= {};
    (out[r.group_name] as Body)[r.option_name] = JSON.parse(r.value) as unknown;
  }
  return out;
}

/** The request's `config`, as Keystone's `request_body_json.get('config', {})`. */
function configOf(ctx: RouteContext): unknown {
  const body = ctx.body as unknown;
  if (!isDict(body) || body['config'] === undefined) return {};
  return body['config'];
}

export function domainConfigRoutes(ix: IdentityContext, reader: IdentityReader): Route[] {
  const db = () => ix.db as unknown as ExtrasDb;

  /** Stored options of a domain, optionally of one group/option; whitelisted only unless withSensitive. */
  function options(
    from: ExtrasDb,
    domainId: string,
    o: { group?: string; option?: string; withSensitive?: boolean } = {},
  ) {
    let q = from.selectFrom('identity_domain_configs').selectAll().where('domain_id', '=', domainId);
    if (!o.withSensitive) q = q.where('sensitive', '=', 0);
    if (o.group) {
      q = q.where('group_name', '=', o.group);
      if (o.option) q = q.where('option_name', '=', o.option);
    }
    return q.orderBy('group_name').orderBy('option_name').execute();
  }

  /** DomainConfigManager.get_config: the whitelisted options, or DomainConfigNotFound. */
  async function getConfig(from: ExtrasDb, domainId: string, group?: string, option?: string): Promise<Body> {
    assertValidGroupAndOption(group, option);
    const rows = await options(from, domainId, { group, option });
    if (rows.length > 0) return listToConfig(rows, option);
    throw configNotFound(domainId, whatOf(group, option));
  }

  /** DomainConfigManager.get_security_compliance_config: two options of this cloud's own configuration. */
  function securityCompliance(domainId: string, option?: string): Body {
    if (domainId !== BOOTSTRAP_IDS.domain) {
      throw invalid(
        'Reading security compliance information for any domain other than the default domain is not allowed or supported.',
      );
    }
    if (option && !(READABLE_SECURITY_OPTIONS as readonly string[]).includes(option)) {
      throw invalid(
        'Reading security compliance values other than password_regex and password_regex_description is not allowed.',
      );
    }
    const sc = ix.config.security_compliance;
    // Keystone's unset options are None.
    const values: Body = {
      password_regex: sc.password_regex || null,
      password_regex_description: sc.password_regex_description || null,
    };
    if (option) return { [option]: values[option] };
    return { [SECURITY_COMPLIANCE]: values };
  }

  const keys = (ctx: RouteContext) => ({
    domainId: ctx.params['domain_id'] ?? '',
    group: ctx.params['group'] || undefined,
    option: ctx.params['option'] || undefined,
  });

  async function show(ctx: RouteContext) {
    const { domainId, group, option } = keys(ctx);
    // Keystone looks the domain up first but raises its 404 only after enforcement and the config lookup,
    // whose own errors win (so an unknown domain's config is a DomainConfigNotFound).
    const domainMissing = !(await reader.findDomain(domainId));
    let config: Body;
    if (group === SECURITY_COMPLIANCE) {
      ctx.authorize('identity:get_security_compliance_domain_config');
      config = securityCompliance(domainId, option);
    } else {
      ctx.authorize('identity:get_domain_config');
      config = await getConfig(db(), domainId, group, option);
    }
    if (domainMissing) throw IdentityErrors.notFound('domain', domainId);
    return { body: { config } };
  }

  async function create(ctx: RouteContext) {
    const { domainId } = keys(ctx);
    await reader.getDomain(domainId);
    const config = configOf(ctx);
    assertValidConfig(config);
    const { created, result } = await ix.write(async (trx, record) => {
      const t = trx as unknown as ExtrasTrx;
      const original = await options(t, domainId, { withSensitive: true });
      // A PUT replaces the whole config.
      await t.deleteFrom('identity_domain_configs').where('domain_id', '=', domainId).execute();
      for (const [group, opts] of Object.entries(config)) {
        for (const [option, value] of Object.entries(opts)) {
          await t
            .insertInto('identity_domain_configs')
            .values({
              domain_id: domainId,
              group_name: group,
              option_name: option,
              value: JSON.stringify(value),
              sensitive: isSensitive(group, option) ? 1 : 0,
            })
            .execute();
        }
      }
      record({ kind: 'domain_config', id: domainId, action: original.length > 0 ? 'update' : 'create' });
      return { created: original.length === 0, result: listToConfig(await options(t, domainId)) };
    });
    return { status: created ? 201 : 200, body: { config: result } };
  }

  async function update(ctx: RouteContext) {
    const { domainId, group, option } = keys(ctx);
    await reader.getDomain(domainId);
    const config = configOf(ctx);
    // For one option the body is {option: value}; make it look like one option of the group.
    const patch: unknown = group && option ? { [group]: config } : config;
    assertValidConfig(patch);
    assertValidGroupAndOption(group, option);
    const result = await ix.write(async (trx, record) => {
      const t = trx as unknown as ExtrasTrx;
      if (group) {
        const groups = Object.keys(patch);
        const inGroup = Object.hasOwn(patch, group) ? Object.keys(patch[group] as Body) : [];
        if (groups.length !== 1 || (option && inGroup.length !== 1)) {
          throw invalid(
            option
              ? `Trying to update option ${option} in group ${group}, so that, and only that, option must be specified  in the config`
              : `Trying to update group ${group}, so that, and only that, group must be specified in the config`,
          );
        }
        if (!Object.hasOwn(patch, group)) {
          throw invalid(
            `request to update group ${group}, but config provided contains group ${groups[0]} instead`,
          );
        }
        if (option && !inGroup.includes(option)) {
          throw invalid(
            `Trying to update option ${option} in group ${group}, but config provided contains option ${inGroup[0]} instead`,
          );
        }
        // An update only changes what exists: the group (or option) must already be set.
        if ((await options(t, domainId, { group, option, withSensitive: true })).length === 0) {
          throw configNotFound(domainId, whatOf(group, option));
        }
      }
      for (const [g, opts] of Object.entries(patch)) {
        for (const [o, value] of Object.entries(opts)) {
          const sensitive = isSensitive(g, o) ? 1 : 0;
          const json = JSON.stringify(value);
          const res = await t
            .updateTable('identity_domain_configs')
            .set({ value: json, sensitive })
            .where('domain_id', '=', domainId)
            .where('group_name', '=', g)
            .where('option_name', '=', o)
            .executeTakeFirst();
          if (Number(res.numUpdatedRows) === 0) {
            await t
              .insertInto('identity_domain_configs')
              .values({ domain_id: domainId, group_name: g, option_name: o, value: json, sensitive })
              .execute();
          }
        }
      }
      record({ kind: 'domain_config', id: domainId, action: 'update' });
      return getConfig(t, domainId);
    });
    return { body: { config: result } };
  }

  async function remove(ctx: RouteContext) {
    const { domainId, group, option } = keys(ctx);
    await reader.getDomain(domainId);
    assertValidGroupAndOption(group, option);
    await ix.write(async (trx, record) => {
      const t = trx as unknown as ExtrasTrx;
      if (group) {
        const current = listToConfig(await options(t, domainId, { withSensitive: true })) as Config;
        const currentGroup = current[group];
        if (!pyTruthy(currentGroup)) throw configNotFound(domainId, whatOf(group));
        // Keystone tests the option's value, so an option set to a false value cannot be deleted on its own.
        if (option && !pyTruthy((currentGroup as Body)[option]))
          throw configNotFound(domainId, whatOf(group, option));
      }
      let q = t.deleteFrom('identity_domain_configs').where('domain_id', '=', domainId);
      if (group) {
        q = q.where('group_name', '=', group);
        if (option) q = q.where('option_name', '=', option);
      }
      await q.execute();
      record({ kind: 'domain_config', id: domainId, action: 'delete' });
    });
    return { status: 204 };
  }

  async function defaults(ctx: RouteContext) {
    const group = ctx.params['group'] || undefined;
    const option = ctx.params['option'] || undefined;
    assertValidGroupAndOption(group, option);
    if (group && option) {
      if (!(WHITELISTED_OPTIONS[group] ?? []).includes(option)) {
        throw invalid(`Reading the default for option ${option} in group ${group} is not supported`);
      }
      return { body: { config: { [option]: DEFAULT_OPTIONS[group]?.[option] ?? null } } };
    }
    const groups = group ? [group] : Object.keys(WHITELISTED_OPTIONS);
    const config: Config = {};
    for (const g of groups) {
      const opts = WHITELISTED_OPTIONS[g] ?? [];
      if (opts.length === 0) continue;
      config[g] = Object.fromEntries(opts.map((o) => [o, DEFAULT_OPTIONS[g]?.[o] ?? null]));
    }
    return { body: { config } };
  }

  const C = '/v3/domains/:domain_id/config';
  const configPaths = [C, `${C}/:group`, `${C}/:group/:option`];
  return [
    // GET enforces inside: the rule depends on the group (security_compliance is readable by anyone).
    ...configPaths.map((path): Route => ({ method: 'GET', path, handler: show })),
    { method: 'PUT', path: C, policy: 'identity:create_domain_config', handler: create },
    ...configPaths.map(
      (path): Route => ({ method: 'PATCH', path, policy: 'identity:update_domain_config', handler: update }),
    ),
    ...configPaths.map(
      (path): Route => ({ method: 'DELETE', path, policy: 'identity:delete_domain_config', handler: remove }),
    ),
    ...[
      '/v3/domains/config/default',
      '/v3/domains/config/:group/default',
      '/v3/domains/config/:group/:option/default',
    ].map(
      (path): Route => ({
        method: 'GET',
        path,
        policy: 'identity:get_domain_config_default',
        handler: defaults,
      }),
    ),
  ];
}
