// Request bodies of POST /servers and PUT /servers/{id}, per microversion (Nova's schemas/servers.py).

import {
  adminPassword,
  boolean,
  description,
  diskConfig,
  flavorRef,
  fqdn,
  hostname,
  imageIdOrEmpty,
  ipAddress,
  ipv4,
  ipv6,
  type JsonSchema,
  metadata,
  name,
  personality,
  positiveInteger,
  strict,
  tag,
  tags,
  trustedCerts,
  userData,
  uuid,
  type VersionedSchema,
  volumeSize,
  volumeType,
  wrap,
} from './parameter-types.ts';

/** The legacy `block_device_mapping` item, also the base of block_device_mapping_v2's. */
const legacyBdmProps: Record<string, JsonSchema> = {
  virtual_name: { type: 'string', maxLength: 255 },
  volume_id: uuid,
  snapshot_id: uuid,
  volume_size: volumeSize,
  // Nova's class is [a-zA-Z0-9._-r/]: `_-r` is a range (_ ` a-r), so no dash and no spaces.
  device_name: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9._`/]*$' },
  delete_on_termination: boolean,
  no_device: {},
  connection_info: { type: 'string', maxLength: 16777215 },
};

const bdmV2Props: Record<string, JsonSchema> = {
  ...legacyBdmProps,
  source_type: { type: 'string', enum: ['volume', 'image', 'snapshot', 'blank'] },
  uuid: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9._-]*$' },
  image_id: uuid,
  destination_type: { type: 'string', enum: ['local', 'volume'] },
  guest_format: { type: 'string', maxLength: 255 },
  device_type: { type: 'string', maxLength: 255 },
  disk_bus: { type: 'string', maxLength: 255 },
  // null is accepted for the legacy v2 API's sake.
  boot_index: { type: ['integer', 'string', 'null'], pattern: '^-?[0-9]+$' },
};

/** os:scheduler_hints: a few hints are typed, any other key is allowed. */
export const schedulerHints: JsonSchema = {
  type: 'object',
  properties: {
    group: uuid,
    different_host: { oneOf: [uuid, { type: 'array', items: uuid }] },
    same_host: { type: ['string', 'array'], items: uuid },
    query: { type: ['string', 'object'] },
    target_cell: name,
    different_cell: { type: ['string', 'array'], items: { type: 'string' } },
    build_near_host_ip: ipAddress,
    cidr: { type: 'string', pattern: '^/[0-9a-f.:]+$' },
  },
  additionalProperties: true,
};

interface CreateOptions {
  /** 2.19: description. */
  description?: boolean;
  /** 2.32 tags networks and BDMs, 2.33-2.36 networks only, 2.37-2.41 neither, 2.42+ both. */
  networkTag?: boolean;
  bdmTag?: boolean;
  /** 2.37: networks is required and may be 'auto' or 'none'; network uuids must be UUIDs. */
  autoNetworks?: boolean;
  serverTags?: boolean;
  /** 2.57 drops personality. */
  personality?: boolean;
  trustedCerts?: boolean;
  bdmVolumeType?: boolean;
  /** 2.74: host and hypervisor_hostname. */
  host?: boolean;
  hostname?: boolean;
}

function networksSchema(o: CreateOptions): JsonSchema {
  const item = strict({
    fixed_ip: ipAddress,
    port: { oneOf: [uuid, { type: 'null' }] },
    uuid: o.autoNetworks ? uuid : { type: 'string' },
    ...(o.networkTag ? { tag } : {}),
  });
  const list: JsonSchema = { type: 'array', items: item };
  return o.autoNetworks ? { oneOf: [list, { type: 'string', enum: ['none', 'auto'] }] } : list;
}

function createSchema(o: CreateOptions): JsonSchema {
  const bdmV2 = strict({
    ...bdmV2Props,
    ...(o.bdmTag ? { tag } : {}),
    ...(o.bdmVolumeType ? { volume_type: volumeType } : {}),
  });
  const server: Record<string, JsonSchema> = {
    name,
    // The empty string is for boot from volume; the handler refuses it otherwise.
    imageRef: imageIdOrEmpty,
    flavorRef,
    adminPass: adminPassword,
    metadata,
    networks: networksSchema(o),
    'OS-DCF:diskConfig': diskConfig,
    accessIPv4: ipv4,
    accessIPv6: ipv6,
    ...(o.personality === false ? {} : { personality }),
    availability_zone: name,
    block_device_mapping: { type: 'array', items: strict(legacyBdmProps) },
    block_device_mapping_v2: { type: 'array', items: bdmV2 },
    config_drive: boolean,
    key_name: name,
    min_count: positiveInteger,
    max_count: positiveInteger,
    return_reservation_id: boolean,
    // Names or UUIDs of security groups; 'name' allows both.
    security_groups: { type: 'array', items: strict({ name }) },
    user_data: userData,
    ...(o.description ? { description } : {}),
    ...(o.serverTags ? { tags } : {}),
    ...(o.trustedCerts ? { trusted_image_certificates: trustedCerts } : {}),
    ...(o.host ? { host: fqdn, hypervisor_hostname: fqdn } : {}),
    ...(o.hostname ? { hostname } : {}),
  };
  const required = o.autoNetworks ? ['name', 'flavorRef', 'networks'] : ['name', 'flavorRef'];
  return strict(
    {
      server: strict(server, required),
      'os:scheduler_hints': schedulerHints,
      'OS-SCH-HNT:scheduler_hints': schedulerHints,
    },
    ['server'],
  );
}

const v219: CreateOptions = { description: true };
const v233: CreateOptions = { ...v219, networkTag: true };
// 2.37 rewrote `networks` without its `tag` (2.42 put it back, with the BDM tag of 2.32).
const v237: CreateOptions = { ...v219, autoNetworks: true };
const v242: CreateOptions = { ...v237, networkTag: true, bdmTag: true };
const v252: CreateOptions = { ...v242, serverTags: true };
const v257: CreateOptions = { ...v252, personality: false };
const v263: CreateOptions = { ...v257, trustedCerts: true };
const v267: CreateOptions = { ...v263, bdmVolumeType: true };
const v274: CreateOptions = { ...v267, host: true };

/** POST /servers. */
export const serverCreate: VersionedSchema = Object.freeze({
  '2.1': createSchema({}),
  '2.19': createSchema(v219),
  '2.32': createSchema({ ...v219, networkTag: true, bdmTag: true }),
  '2.33': createSchema(v233),
  '2.37': createSchema(v237),
  '2.42': createSchema(v242),
  '2.52': createSchema(v252),
  '2.57': createSchema(v257),
  '2.63': createSchema(v263),
  '2.67': createSchema(v267),
  '2.74': createSchema(v274),
  '2.90': createSchema({ ...v274, hostname: true }),
});

function updateSchema(extra: Record<string, JsonSchema>): JsonSchema {
  return wrap(
    'server',
    strict({ name, 'OS-DCF:diskConfig': diskConfig, accessIPv4: ipv4, accessIPv6: ipv6, ...extra }),
  );
}

/** PUT /servers/{server_id}. */
export const serverUpdate: VersionedSchema = Object.freeze({
  '2.1': updateSchema({}),
  '2.19': updateSchema({ description }),
  '2.90': updateSchema({ description, hostname }),
});
