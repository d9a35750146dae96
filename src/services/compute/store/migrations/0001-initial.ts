// Compute's first schema: flavors, keypairs, hosts, aggregates, server groups, quotas, servers and their
// metadata, tags, actions, migrations and block device mappings.
import type { CreateTableBuilder, Kysely } from 'kysely';
import type { DialectName } from '../../../../platform/db/database.ts';
import type { Migration } from '../../../../platform/db/migrate.ts';

// biome-ignore lint/suspicious/noExplicitAny: migrations see the raw schema.
type Db = Kysely<any>;
// biome-ignore lint/suspicious/noExplicitAny: builder over an arbitrary table.
type T = CreateTableBuilder<any, any>;

function serialId(t: T, dialect: DialectName): T {
  return dialect === 'postgres'
    ? t.addColumn('id', 'bigserial', (c) => c.primaryKey())
    : t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
}

async function index(db: Db, table: string, cols: string[], unique = false): Promise<void> {
  let b = db.schema
    .createIndex(`${table}_${cols.join('_')}`)
    .on(table)
    .columns(cols);
  if (unique) b = b.unique();
  await b.execute();
}

export const initial: Migration = {
  version: 1,
  name: 'initial',
  async up(db: Db, dialect: DialectName) {
    await db.schema
      .createTable('compute_flavors')
      .addColumn('id', 'varchar(255)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
      .addColumn('vcpus', 'integer', (c) => c.notNull())
      .addColumn('memory_mb', 'integer', (c) => c.notNull())
      .addColumn('root_gb', 'integer', (c) => c.notNull())
      .addColumn('ephemeral_gb', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('swap', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('rxtx_factor', 'real', (c) => c.notNull().defaultTo(1))
      .addColumn('is_public', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('description', 'text')
      .addColumn('extra_specs', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(40)')
      .execute();
    await db.schema
      .createTable('compute_flavor_projects')
      .addColumn('flavor_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
      .addPrimaryKeyConstraint('compute_flavor_projects_pk', ['flavor_id', 'project_id'])
      .execute();

    await serialId(db.schema.createTable('compute_keypairs'), dialect)
      .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('type', 'varchar(16)', (c) => c.notNull())
      .addColumn('public_key', 'text', (c) => c.notNull())
      .addColumn('fingerprint', 'varchar(255)', (c) => c.notNull())
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .execute();
    await index(db, 'compute_keypairs', ['user_id', 'name'], true);

    await serialId(db.schema.createTable('compute_hosts'), dialect)
      .addColumn('uuid', 'varchar(36)', (c) => c.notNull().unique())
      .addColumn('node_uuid', 'varchar(36)', (c) => c.notNull().unique())
      .addColumn('host', 'varchar(255)', (c) => c.notNull().unique())
      .addColumn('node', 'varchar(255)', (c) => c.notNull())
      .addColumn('binary', 'varchar(64)', (c) => c.notNull())
      .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('disabled_reason', 'varchar(255)')
      .addColumn('forced_down', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('heartbeat_at', 'varchar(40)')
      .addColumn('hypervisor_type', 'varchar(64)', (c) => c.notNull())
      .addColumn('hypervisor_version', 'integer', (c) => c.notNull())
      .addColumn('host_ip', 'varchar(64)', (c) => c.notNull())
      .addColumn('vcpus', 'integer', (c) => c.notNull())
      .addColumn('memory_mb', 'integer', (c) => c.notNull())
      .addColumn('local_gb', 'integer', (c) => c.notNull())
      .addColumn('cpu_info', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(40)')
      .execute();

    await serialId(db.schema.createTable('compute_aggregates'), dialect)
      .addColumn('uuid', 'varchar(36)', (c) => c.notNull().unique())
      .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
      .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(40)')
      .execute();
    await db.schema
      .createTable('compute_aggregate_hosts')
      .addColumn('aggregate_id', 'integer', (c) => c.notNull())
      .addColumn('host', 'varchar(255)', (c) => c.notNull())
      .addPrimaryKeyConstraint('compute_aggregate_hosts_pk', ['aggregate_id', 'host'])
      .execute();

    await db.schema
      .createTable('compute_server_groups')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('policy', 'varchar(32)', (c) => c.notNull())
      .addColumn('rules', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .execute();
    await index(db, 'compute_server_groups', ['project_id']);
    await db.schema
      .createTable('compute_server_group_members')
      .addColumn('group_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('server_id', 'varchar(36)', (c) => c.notNull())
      .addPrimaryKeyConstraint('compute_server_group_members_pk', ['group_id', 'server_id'])
      .execute();
    await index(db, 'compute_server_group_members', ['server_id']);

    await db.schema
      .createTable('compute_quotas')
      .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(64)', (c) => c.notNull().defaultTo(''))
      .addColumn('resource', 'varchar(64)', (c) => c.notNull())
      .addColumn('hard_limit', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('compute_quotas_pk', ['project_id', 'user_id', 'resource'])
      .execute();
    await db.schema
      .createTable('compute_quota_classes')
      .addColumn('class_name', 'varchar(255)', (c) => c.notNull())
      .addColumn('resource', 'varchar(64)', (c) => c.notNull())
      .addColumn('hard_limit', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('compute_quota_classes_pk', ['class_name', 'resource'])
      .execute();

    await db.schema
      .createTable('compute_servers')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('hostname', 'varchar(255)', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('reservation_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('launch_index', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('flavor_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('flavor', 'text', (c) => c.notNull())
      .addColumn('old_flavor', 'text')
      .addColumn('new_flavor', 'text')
      .addColumn('image_id', 'varchar(64)', (c) => c.notNull().defaultTo(''))
      .addColumn('key_name', 'varchar(255)')
      .addColumn('key_data', 'text')
      .addColumn('user_data', 'text')
      .addColumn('config_drive', 'varchar(8)', (c) => c.notNull().defaultTo(''))
      .addColumn('access_ip_v4', 'varchar(64)', (c) => c.notNull().defaultTo(''))
      .addColumn('access_ip_v6', 'varchar(64)', (c) => c.notNull().defaultTo(''))
      .addColumn('availability_zone', 'varchar(255)')
      .addColumn('host', 'varchar(255)')
      .addColumn('node', 'varchar(255)')
      .addColumn('vm_state', 'varchar(32)', (c) => c.notNull())
      .addColumn('task_state', 'varchar(64)')
      .addColumn('power_state', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('task_seq', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('task_args', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('locked', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('locked_by', 'varchar(16)')
      .addColumn('locked_reason', 'varchar(255)')
      .addColumn('progress', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('launched_at', 'varchar(40)')
      .addColumn('terminated_at', 'varchar(40)')
      .addColumn('request_spec', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('fault', 'text')
      .addColumn('security_groups', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('addresses', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('system_metadata', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('trusted_certs', 'text')
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('deleted_at', 'varchar(40)')
      .execute();
    await index(db, 'compute_servers', ['project_id', 'deleted', 'created_at']);
    await index(db, 'compute_servers', ['deleted', 'created_at']);
    await index(db, 'compute_servers', ['host', 'deleted']);
    await index(db, 'compute_servers', ['task_state']);
    await index(db, 'compute_servers', ['updated_at']);

    await db.schema
      .createTable('compute_server_metadata')
      .addColumn('server_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('key', 'varchar(255)', (c) => c.notNull())
      .addColumn('value', 'varchar(255)', (c) => c.notNull())
      .addPrimaryKeyConstraint('compute_server_metadata_pk', ['server_id', 'key'])
      .execute();
    await db.schema
      .createTable('compute_server_tags')
      .addColumn('server_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('tag', 'varchar(80)', (c) => c.notNull())
      .addPrimaryKeyConstraint('compute_server_tags_pk', ['server_id', 'tag'])
      .execute();
    await index(db, 'compute_server_tags', ['tag']);

    await serialId(db.schema.createTable('compute_instance_actions'), dialect)
      .addColumn('server_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('action', 'varchar(64)', (c) => c.notNull())
      .addColumn('request_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('start_time', 'varchar(40)', (c) => c.notNull())
      .addColumn('finish_time', 'varchar(40)')
      .addColumn('message', 'varchar(255)')
      .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
      .execute();
    await index(db, 'compute_instance_actions', ['server_id']);
    await serialId(db.schema.createTable('compute_instance_action_events'), dialect)
      .addColumn('action_id', 'integer', (c) => c.notNull())
      .addColumn('event', 'varchar(64)', (c) => c.notNull())
      .addColumn('start_time', 'varchar(40)', (c) => c.notNull())
      .addColumn('finish_time', 'varchar(40)')
      .addColumn('result', 'varchar(32)')
      .addColumn('traceback', 'text')
      .addColumn('host', 'varchar(255)')
      .addColumn('details', 'text')
      .execute();
    await index(db, 'compute_instance_action_events', ['action_id']);

    await serialId(db.schema.createTable('compute_migrations'), dialect)
      .addColumn('uuid', 'varchar(36)', (c) => c.notNull().unique())
      .addColumn('server_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('source_compute', 'varchar(255)')
      .addColumn('source_node', 'varchar(255)')
      .addColumn('dest_compute', 'varchar(255)')
      .addColumn('dest_node', 'varchar(255)')
      .addColumn('dest_host', 'varchar(255)')
      .addColumn('old_flavor_id', 'varchar(255)')
      .addColumn('new_flavor_id', 'varchar(255)')
      .addColumn('migration_type', 'varchar(32)', (c) => c.notNull())
      .addColumn('status', 'varchar(32)', (c) => c.notNull())
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
      .execute();
    await index(db, 'compute_migrations', ['server_id']);

    await serialId(db.schema.createTable('compute_block_device_mappings'), dialect)
      .addColumn('server_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('boot_index', 'integer')
      .addColumn('source_type', 'varchar(32)', (c) => c.notNull())
      .addColumn('destination_type', 'varchar(32)', (c) => c.notNull())
      .addColumn('uuid', 'varchar(64)')
      .addColumn('volume_id', 'varchar(64)')
      .addColumn('volume_size', 'integer')
      .addColumn('device_name', 'varchar(255)')
      .addColumn('delete_on_termination', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('tag', 'varchar(255)')
      .addColumn('disk_bus', 'varchar(32)')
      .addColumn('device_type', 'varchar(32)')
      .addColumn('guest_format', 'varchar(32)')
      .addColumn('volume_type', 'varchar(255)')
      .addColumn('attachment_id', 'varchar(64)')
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .execute();
    await index(db, 'compute_block_device_mappings', ['server_id']);
  },
};

export const computeMigrations: readonly Migration[] = [initial];
