// Typed configuration: defaults, then an optional YAML/JSON file, then MONOSTACK_* environment, then flags.
// The only reader of process.env in the project.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

export interface SecurityComplianceConfig {
  /** Failed password attempts before a user is locked out; 0 disables lockout (Keystone's default). */
  lockout_failure_attempts: number;
  /** Seconds a locked-out user stays locked. */
  lockout_duration: number;
  /** How many previous passwords a new one must differ from; 0 or 1 disables history. */
  unique_last_password_count: number;
  /** Days before a user may change their password again. */
  minimum_password_age: number;
  /** Days a password stays valid; 0 = forever. */
  password_expires_days: number;
  /** Regex a new password must match, with its human description. */
  password_regex: string;
  password_regex_description: string;
  /** Force a password change on first use after an admin sets it. */
  change_password_upon_first_use: boolean;
}

export interface IdentityConfig {
  token: { expiration: number; allow_rescope_scoped_token: boolean; cache_ttl: number };
  fernet_tokens: { max_active_keys: number; key_repository: string };
  /** bcrypt cost, as Keystone's [identity] password_hash_rounds (default 12). */
  password_hash_rounds: number;
  max_password_length: number;
  security_compliance: SecurityComplianceConfig;
  /** Operator overrides of policy rules: rule name → check string. */
  policy_overrides: Record<string, string>;
  list_limit: number;
}

export interface ImageConfig {
  /** Where image data and staged uploads live (default <data_dir>/images). */
  data_dir: string;
  /** Largest image in bytes (Glance's image_size_cap, 1 TiB). */
  image_size_cap: number;
  /** Per-project limits in Glance's unified-limits names; -1 = unlimited. Sizes in MiB. */
  quotas: {
    image_count_total: number;
    image_size_total: number;
    image_stage_total: number;
    image_count_uploading: number;
  };
  /** Page size without ?limit, and the most ?limit may ask for. */
  limit_param_default: number;
  api_limit_max: number;
  policy_overrides: Record<string, string>;
}

export interface ComputeQuotaDefaults {
  instances: number;
  cores: number;
  ram: number;
  metadata_items: number;
  injected_files: number;
  injected_file_content_bytes: number;
  injected_file_path_bytes: number;
  key_pairs: number;
  server_groups: number;
  server_group_members: number;
}

export interface ComputeConfig {
  /** The hypervisor driver of this host's agent: 'qemu' (real VMs) or 'fake' (no VMs; tests and scale runs). */
  driver: string;
  /** The fake driver: how many hosts one process presents, per-operation delay (ms), and per-host size. */
  fake: { hosts: number; delay_ms: number; vcpus: number; memory_mb: number; disk_gb: number };
  /**
   * The QEMU driver: accelerator ('auto' picks KVM only where it really works, else TCG), how long a clean
   * (ACPI) shutdown may take before power-off (Nova's shutdown_timeout), and where guests live (default
   * <data_dir>/compute/qemu).
   */
  qemu: { accel: 'auto' | 'kvm' | 'tcg'; shutdown_timeout: number; state_dir: string };
  /** Always give servers a config drive (Nova's force_config_drive). */
  force_config_drive: boolean;
  /**
   * The metadata API guests reach as 169.254.169.254 through the networking proxy (nova-api-metadata): its own
   * listener (Nova's metadata_listen/_port; off when not enabled), the secret the proxy signs instance ids with
   * (metadata_proxy_shared_secret; generated per data directory when empty), how requests name their instance,
   * and Nova's dhcp_domain.
   */
  metadata: {
    enabled: boolean;
    host: string;
    port: number;
    shared_secret: string;
    identify: 'auto' | 'proxy' | 'address';
    use_forwarded_for: boolean;
    dhcp_domain: string;
  };
  /** How long a build waits for Neutron's network-vif-plugged (seconds), and whether a timeout fails it (Nova's). */
  vif_plugging_timeout: number;
  vif_plugging_is_fatal: boolean;
  /** Console tokens' lifetime in seconds (Nova's [consoleauth] token_ttl). */
  console_token_ttl: number;
  /** Register the project's test guest image at start (built from Debian packages on first use). */
  test_image: boolean;
  default_availability_zone: string;
  /** Allocation ratios reported to placement (Nova's initial_*_allocation_ratio). */
  cpu_allocation_ratio: number;
  ram_allocation_ratio: number;
  disk_allocation_ratio: number;
  /** Reserved on each host (Nova's reserved_host_memory_mb, reserved_host_disk_mb/1024, reserved_host_cpus). */
  reserved_host_memory_mb: number;
  /** Scheduler: weigh toward spreading (positive) or packing (negative); how many alternates to try. */
  ram_weight_multiplier: number;
  cpu_weight_multiplier: number;
  disk_weight_multiplier: number;
  max_attempts: number;
  /** Seconds without a heartbeat before a compute service is reported down. */
  service_down_time: number;
  /**
   * New builds wait (at most max_wait_ms) while this process's event loop is saturated and at least min_in_flight
   * builds it accepted are under way; min_in_flight 0 turns this off.
   */
  build_admission: { min_in_flight: number; max_wait_ms: number };
  /** Page size cap (Nova's osapi_max_limit). */
  max_limit: number;
  quotas: ComputeQuotaDefaults;
  policy_overrides: Record<string, string>;
}

export interface NetworkQuotaDefaults {
  network: number;
  subnet: number;
  subnetpool: number;
  port: number;
  router: number;
  floatingip: number;
  security_group: number;
  security_group_rule: number;
  rbac_policy: number;
}

export interface NetworkConfig {
  /** This host's data plane: 'linux' (bridges, namespaces, nftables, dnsmasq) or 'fake' (ports go ACTIVE at once). */
  dataplane: string;
  /** Prefix of every namespace this host's network agent creates (tests give each cloud its own). */
  prefix: string;
  /** Where the agent keeps dnsmasq/haproxy files and sockets (default <data_dir>/network). */
  state_dir: string;
  /** The MTU of the underlying physical network (Neutron's global_physnet_mtu); VXLAN networks get 50 less. */
  global_physnet_mtu: number;
  /** Tenant networks' type (ML2's tenant_network_types[0]) and the VXLAN id range handed out to them. */
  tenant_network_type: string;
  vni_min: number;
  vni_max: number;
  /** This host's VXLAN underlay address ('' = networks stay on this host). */
  vxlan_local_ip: string;
  /**
   * Physical networks (ML2 flat/vlan physnets) and where each leaves the host: 'host' (a veth into the host's
   * own namespace; the external network's gateway address sits on it), 'netns:<name>' (into a namespace someone
   * else made, as tests do) — both for flat networks —, 'link:<iface>' or 'link:<netns>/<iface>' (a trunk
   * interface: vlan networks get an 802.1Q device on it; needs a kernel with CONFIG_VLAN_8021Q), or 'none'.
   */
  physical_networks: Record<string, string>;
  /** First use (as DevStack): the external network `public`, and `private` with a router for the demo project. */
  bootstrap: {
    enabled: boolean;
    public_cidr: string;
    public_gateway: string;
    public_physical_network: string;
    private_cidr: string;
  };
  /** Neutron's base_mac, dhcp_lease_duration, dns_domain, max_fixed_ips_per_port. */
  base_mac: string;
  dhcp_lease_duration: number;
  dns_domain: string;
  max_fixed_ips_per_port: number;
  quotas: NetworkQuotaDefaults;
  policy_overrides: Record<string, string>;
}

export interface PlacementConfig {
  policy_overrides: Record<string, string>;
}

export interface MonostackConfig {
  data_dir: string;
  host: string;
  port: number;
  /** The base URL clients reach; catalog endpoints are built from it. */
  public_url: string;
  region: string;
  database: { url: string };
  log: { level: string; file: string };
  max_request_body_size: number;
  /**
   * How far above its live data V8 may grow the JavaScript heap before the next full collection, in percent
   * (0: V8's own, up to 4x). A little more GC time for a much smaller process under load.
   */
  heap_growing_percent: number;
  bootstrap: { admin_password: string; demo_password: string };
  /** Merge the cloud's entries into the user's ~/.config/openstack/clouds.yaml on start. */
  merge_user_clouds: boolean;
  identity: IdentityConfig;
  image: ImageConfig;
  compute: ComputeConfig;
  placement: PlacementConfig;
  network: NetworkConfig;
}

export interface ConfigSources {
  /** Values given as flags; highest precedence. */
  flags?: DeepPartial<MonostackConfig>;
  /** Explicit config file; otherwise $MONOSTACK_CONFIG or <data_dir>/monostack.yaml when present. */
  file?: string;
  env?: Record<string, string | undefined>;
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

export function defaultDataDir(env: Record<string, string | undefined>): string {
  if (process.getuid?.() === 0) return '/var/lib/monostack';
  return join(env['XDG_DATA_HOME'] ?? join(homedir(), '.local', 'share'), 'monostack');
}

function defaults(env: Record<string, string | undefined>): MonostackConfig {
  return {
    data_dir: defaultDataDir(env),
    host: '127.0.0.1',
    port: 5000,
    public_url: '',
    region: 'RegionOne',
    database: { url: '' },
    log: { level: 'info', file: '' },
    max_request_body_size: 114688,
    heap_growing_percent: 25,
    bootstrap: { admin_password: '', demo_password: '' },
    merge_user_clouds: true,
    identity: {
      token: { expiration: 3600, allow_rescope_scoped_token: true, cache_ttl: 300 },
      fernet_tokens: { max_active_keys: 3, key_repository: '' },
      password_hash_rounds: 12,
      max_password_length: 4096,
      security_compliance: {
        lockout_failure_attempts: 0,
        lockout_duration: 1800,
        unique_last_password_count: 0,
        minimum_password_age: 0,
        password_expires_days: 0,
        password_regex: '',
        password_regex_description: '',
        change_password_upon_first_use: false,
      },
      policy_overrides: {},
      list_limit: 0,
    },
    image: {
      data_dir: '',
      image_size_cap: 1099511627776,
      quotas: {
        image_count_total: -1,
        image_size_total: -1,
        image_stage_total: -1,
        image_count_uploading: -1,
      },
      limit_param_default: 25,
      api_limit_max: 1000,
      policy_overrides: {},
    },
    compute: {
      driver: 'qemu',
      fake: { hosts: 1, delay_ms: 0, vcpus: 16, memory_mb: 65536, disk_gb: 1000 },
      qemu: { accel: 'auto', shutdown_timeout: 60, state_dir: '' },
      force_config_drive: false,
      metadata: {
        enabled: true,
        host: '127.0.0.1',
        port: 8775,
        shared_secret: '',
        identify: 'auto',
        use_forwarded_for: false,
        dhcp_domain: 'novalocal',
      },
      vif_plugging_timeout: 300,
      vif_plugging_is_fatal: true,
      console_token_ttl: 600,
      test_image: true,
      default_availability_zone: 'nova',
      cpu_allocation_ratio: 4,
      ram_allocation_ratio: 1,
      disk_allocation_ratio: 1,
      reserved_host_memory_mb: 512,
      ram_weight_multiplier: 1,
      cpu_weight_multiplier: 1,
      disk_weight_multiplier: 1,
      max_attempts: 3,
      service_down_time: 60,
      build_admission: { min_in_flight: 16, max_wait_ms: 5000 },
      max_limit: 1000,
      quotas: {
        instances: 10,
        cores: 20,
        ram: 51200,
        metadata_items: 128,
        injected_files: 5,
        injected_file_content_bytes: 10240,
        injected_file_path_bytes: 255,
        key_pairs: 100,
        server_groups: 10,
        server_group_members: 10,
      },
      policy_overrides: {},
    },
    placement: { policy_overrides: {} },
    network: {
      dataplane: 'linux',
      prefix: 'ms-',
      state_dir: '',
      global_physnet_mtu: 1500,
      tenant_network_type: 'vxlan',
      vni_min: 1,
      vni_max: 65535,
      vxlan_local_ip: '',
      physical_networks: { public: 'host' },
      bootstrap: {
        enabled: true,
        public_cidr: '203.0.113.0/24',
        public_gateway: '203.0.113.1',
        public_physical_network: 'public',
        private_cidr: '10.0.0.0/26',
      },
      base_mac: 'fa:16:3e:00:00:00',
      dhcp_lease_duration: 86400,
      dns_domain: 'openstacklocal',
      max_fixed_ips_per_port: 5,
      quotas: {
        network: 100,
        subnet: 100,
        subnetpool: -1,
        port: 500,
        router: 10,
        floatingip: 50,
        security_group: 10,
        security_group_rule: 100,
        rbac_policy: 10,
      },
      policy_overrides: {},
    },
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Options whose keys are the user's (not a fixed schema): merged key by key. */
const FREE_MAPPINGS = new Set(['policy_overrides', 'physical_networks']);

function merge(base: Record<string, unknown>, over: Record<string, unknown>, path = ''): void {
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const here = path ? `${path}.${k}` : k;
    if (!(k in base)) throw new Error(`unknown configuration option "${here}"`);
    const cur = base[k];
    if (isObject(cur) && !FREE_MAPPINGS.has(k)) {
      if (!isObject(v)) throw new Error(`configuration option "${here}" must be a mapping`);
      merge(cur, v, here);
    } else if (isObject(cur)) {
      base[k] = { ...cur, ...v };
    } else {
      base[k] = coerce(cur, v, here);
    }
  }
}

function coerce(like: unknown, v: unknown, path: string): unknown {
  if (typeof like === 'number') {
    const n = typeof v === 'string' ? Number(v) : v;
    if (typeof n !== 'number' || Number.isNaN(n))
      throw new Error(`configuration option "${path}" must be a number`);
    return n;
  }
  if (typeof like === 'boolean') {
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === '1' || v === 'yes') return true;
    if (v === 'false' || v === '0' || v === 'no') return false;
    throw new Error(`configuration option "${path}" must be a boolean`);
  }
  return String(v);
}

/** Environment: MONOSTACK_PORT, MONOSTACK_HOST, MONOSTACK_DATA_DIR, MONOSTACK_DATABASE_URL, MONOSTACK_PUBLIC_URL,
 * MONOSTACK_LOG_LEVEL, MONOSTACK_ADMIN_PASSWORD, MONOSTACK_USER_CLOUDS (0/1), and any option as MONOSTACK__section__key (double underscores). */
function fromEnv(env: Record<string, string | undefined>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const set = (path: string[], v: string) => {
    let o = out;
    for (const p of path.slice(0, -1)) {
      o[p] ??= {};
      o = o[p] as Record<string, unknown>;
    }
    o[path[path.length - 1]!] = v;
  };
  const named: Record<string, string[]> = {
    MONOSTACK_PORT: ['port'],
    MONOSTACK_HOST: ['host'],
    MONOSTACK_DATA_DIR: ['data_dir'],
    MONOSTACK_DATABASE_URL: ['database', 'url'],
    MONOSTACK_PUBLIC_URL: ['public_url'],
    MONOSTACK_LOG_LEVEL: ['log', 'level'],
    MONOSTACK_ADMIN_PASSWORD: ['bootstrap', 'admin_password'],
    MONOSTACK_USER_CLOUDS: ['merge_user_clouds'],
  };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || v === '') continue;
    const path = named[k];
    if (path) set(path, v);
    else if (k.startsWith('MONOSTACK__')) set(k.slice('MONOSTACK__'.length).toLowerCase().split('__'), v);
  }
  return out;
}

function readFile(file: string): Record<string, unknown> {
  const text = readFileSync(file, 'utf8');
  const data = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  if (data === null || data === undefined) return {};
  if (!isObject(data)) throw new Error(`${file}: the configuration file must hold a mapping`);
  return data;
}

/** Loads configuration; works with no file at all. Throws on unknown options or wrong types. */
export function loadConfig(src: ConfigSources = {}): Readonly<MonostackConfig> {
  const env = src.env ?? process.env;
  const cfg = defaults(env) as unknown as Record<string, unknown>;
  const envPart = fromEnv(env);
  const flags = (src.flags ?? {}) as Record<string, unknown>;
  const dataDir = resolve(String(flags['data_dir'] ?? envPart['data_dir'] ?? cfg['data_dir']));
  const file = src.file ?? env['MONOSTACK_CONFIG'] ?? join(dataDir, 'monostack.yaml');
  if (src.file !== undefined || env['MONOSTACK_CONFIG'] !== undefined || existsSync(file))
    merge(cfg, readFile(file));
  merge(cfg, envPart);
  merge(cfg, flags);
  const c = cfg as unknown as MonostackConfig;
  c.data_dir = resolve(c.data_dir);
  if (!c.database.url) c.database.url = `sqlite:${join(c.data_dir, 'monostack.db')}`;
  if (!c.public_url) {
    const host = c.host === '0.0.0.0' || c.host === '::' ? '127.0.0.1' : c.host;
    c.public_url = `http://${host.includes(':') ? `[${host}]` : host}:${c.port}`;
  }
  c.public_url = c.public_url.replace(/\/+$/, '');
  if (!c.identity.fernet_tokens.key_repository) {
    c.identity.fernet_tokens.key_repository = join(c.data_dir, 'fernet-keys');
  }
  if (!c.image.data_dir) c.image.data_dir = join(c.data_dir, 'images');
  if (!c.network.state_dir) c.network.state_dir = join(c.data_dir, 'network');
  if (!c.compute.qemu.state_dir) c.compute.qemu.state_dir = join(c.data_dir, 'compute', 'qemu');
  return deepFreeze(c);
}

function deepFreeze<T>(o: T): T {
  if (isObject(o)) for (const v of Object.values(o)) deepFreeze(v);
  return Object.freeze(o);
}
