// Learns what a running cloud offers (catalog, microversions, settings) so tempest.conf can match it.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { AdminCredentials, DiscoveredService, Discovery, SecurityCompliance } from './tempest-conf.ts';
import { DEFAULT_SECURITY_COMPLIANCE } from './tempest-conf.ts';

/** One cloud of a clouds.yaml, reduced to what the runner uses. */
export interface CloudEntry extends AdminCredentials {
  /** Keystone v3 root (`…/v3`), whatever clouds.yaml wrote. */
  authUrl: string;
  regionName?: string;
}

export interface CatalogEndpoint {
  interface: string;
  url: string;
  region?: string | null;
  region_id?: string | null;
}

export interface CatalogEntry {
  type: string;
  name?: string;
  endpoints: CatalogEndpoint[];
}

/** Appends `/v3` to an auth URL that names the Keystone root only. */
export function normalizeAuthUrl(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return /\/v3$/.test(trimmed) ? trimmed : `${trimmed}/v3`;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value ? value : undefined;
}

/** Parses a clouds.yaml text and returns the named cloud; throws when it lacks credentials. */
export function parseCloudsYaml(text: string, name: string): CloudEntry {
  const doc = parseYaml(text) as { clouds?: Record<string, Record<string, unknown>> } | null;
  const cloud = doc?.clouds?.[name];
  if (!cloud) throw new Error(`clouds.yaml has no cloud named ${name}`);
  const auth = (cloud['auth'] ?? {}) as Record<string, unknown>;
  const authUrl = str(auth['auth_url']);
  const username = str(auth['username']);
  const password = str(auth['password']);
  const projectName = str(auth['project_name']);
  if (!authUrl || !username || !password || !projectName) {
    throw new Error(`clouds.yaml cloud ${name} lacks auth_url, username, password or project_name`);
  }
  const entry: CloudEntry = {
    authUrl: normalizeAuthUrl(authUrl),
    username,
    password,
    projectName,
    userDomainName: str(auth['user_domain_name']) ?? 'Default',
    projectDomainName: str(auth['project_domain_name']) ?? 'Default',
  };
  const region = str(cloud['region_name']);
  if (region) entry.regionName = region;
  return entry;
}

export async function readCloud(cloudsYamlPath: string, name: string): Promise<CloudEntry> {
  return parseCloudsYaml(await readFile(cloudsYamlPath, 'utf8'), name);
}

/** The public endpoint of each catalog service in a region (the first public one when the region has none). */
export function publicEndpoints(
  catalog: readonly CatalogEntry[],
  region: string | undefined,
): Map<string, string> {
  const found = new Map<string, string>();
  for (const service of catalog) {
    const pub = service.endpoints.filter((e) => e.interface === 'public');
    const inRegion = pub.find((e) => !region || e.region_id === region || e.region === region);
    const chosen = inRegion ?? pub[0];
    if (chosen && !found.has(service.type)) found.set(service.type, chosen.url);
  }
  return found;
}

/** The region of the identity endpoint, when the catalog says. */
export function catalogRegion(catalog: readonly CatalogEntry[]): string | undefined {
  const identity = catalog.find((s) => s.type === 'identity');
  const endpoint = identity?.endpoints.find((e) => e.interface === 'public') ?? identity?.endpoints[0];
  return str(endpoint?.region_id) ?? str(endpoint?.region);
}

function versionNumber(v: string): number[] {
  return v
    .replace(/^v/, '')
    .split('.')
    .map((n) => Number.parseInt(n, 10) || 0);
}

function compareVersions(a: string, b: string): number {
  const x = versionNumber(a);
  const y = versionNumber(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

/**
 * The microversion range in a version document: Nova's `{"version": {min_version, version}}`,
 * Cinder's and Placement's `{"versions": [{min_version, version|max_version}]}` (the CURRENT
 * entry, else the newest that has a range). Empty strings mean "no microversions".
 */
export function parseVersionDocument(body: unknown): { minMicroversion?: string; maxMicroversion?: string } {
  const doc = body as { version?: unknown; versions?: unknown } | null;
  const candidates: Record<string, unknown>[] = [];
  if (doc && typeof doc.version === 'object' && doc.version)
    candidates.push(doc.version as Record<string, unknown>);
  const list = Array.isArray(doc?.versions)
    ? doc.versions
    : Array.isArray((doc?.versions as { values?: unknown } | undefined)?.values)
      ? (doc!.versions as { values: unknown[] }).values
      : [];
  for (const v of list) if (v && typeof v === 'object') candidates.push(v as Record<string, unknown>);
  const ranged = candidates
    .map((v) => ({
      id: str(v['id']) ?? '',
      status: str(v['status'])?.toUpperCase(),
      min: str(v['min_version']),
      max: str(v['version']) ?? str(v['max_version']),
    }))
    .filter((v) => v.min && v.max);
  if (!ranged.length) return {};
  const chosen =
    ranged.find((v) => v.status === 'CURRENT') ?? [...ranged].sort((a, b) => compareVersions(b.id, a.id))[0]!;
  return { minMicroversion: chosen.min!, maxMicroversion: chosen.max! };
}

/**
 * Where to look for a service's version document: the endpoint without a trailing project id
 * (Cinder's `…/v3/<project>`, Swift's `…/v1/AUTH_<project>`), then the service root without the
 * version segment; for Swift, which has no version document, its `/info`.
 */
export function versionDocumentUrls(endpoint: string, projectId: string | undefined): string[] {
  let url = endpoint.replace(/\/+$/, '');
  const last = url.slice(url.lastIndexOf('/') + 1);
  const swiftAccount = /^AUTH_/.test(last);
  if (
    (projectId && last === projectId) ||
    swiftAccount ||
    /^(%|\$)\(?(project_id|tenant_id)\)?s?$/.test(last) ||
    /^[0-9a-f]{32}$/.test(last)
  ) {
    url = url.slice(0, url.lastIndexOf('/'));
  }
  const urls = [url];
  const parsed = new URL(url);
  const segments = parsed.pathname.split('/').filter(Boolean);
  if (segments.length && /^v\d+(\.\d+)?$/.test(segments[segments.length - 1]!)) {
    parsed.pathname = `/${segments.slice(0, -1).join('/')}`;
    const root = parsed.toString().replace(/\/+$/, '');
    urls.push(root);
    if (swiftAccount) urls.push(`${root}/info`);
  }
  return urls;
}

/** Whether a probe of a service URL shows a live service (a version document may answer 300). */
export function isAnswer(status: number): boolean {
  return (status >= 200 && status < 300) || status === 300;
}

function num(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/** Reads `GET /v3/monostack/settings` (keys as in keystone.conf [security_compliance]), with defaults for the rest. */
export function parseSettings(body: unknown): SecurityCompliance {
  const s = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const d = DEFAULT_SECURITY_COMPLIANCE;
  return {
    lockoutFailureAttempts: num(s['lockout_failure_attempts'], d.lockoutFailureAttempts),
    lockoutDuration: num(s['lockout_duration'], d.lockoutDuration),
    uniqueLastPasswordCount: num(s['unique_last_password_count'], d.uniqueLastPasswordCount),
    minimumPasswordAge: num(s['minimum_password_age'], d.minimumPasswordAge),
  };
}

interface HttpResult {
  status: number;
  headers: Headers;
  body: unknown;
}

async function http(url: string, init: RequestInit = {}): Promise<HttpResult> {
  const res = await fetch(url, {
    ...init,
    headers: { accept: 'application/json', ...(init.headers as Record<string, string> | undefined) },
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: res.status, headers: res.headers, body };
}

async function tryHttp(url: string, token: string): Promise<HttpResult | undefined> {
  try {
    return await http(url, { headers: { 'x-auth-token': token } });
  } catch {
    return undefined;
  }
}

function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + path;
}

export interface DiscoverOptions {
  cloud: CloudEntry;
  workspaceDir: string;
  runValidation: boolean;
}

/** Authenticates as admin and asks the cloud everything tempest.conf needs. Throws when Keystone refuses. */
export async function discoverCloud(opts: DiscoverOptions): Promise<Discovery> {
  const { cloud } = opts;
  const auth = await http(joinUrl(cloud.authUrl, '/auth/tokens'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: {
            user: { name: cloud.username, domain: { name: cloud.userDomainName }, password: cloud.password },
          },
        },
        scope: { project: { name: cloud.projectName, domain: { name: cloud.projectDomainName } } },
      },
    }),
  });
  const token = auth.headers.get('x-subject-token');
  if (auth.status !== 201 || !token) {
    throw new Error(
      `admin authentication failed: HTTP ${auth.status} ${JSON.stringify(auth.body).slice(0, 300)}`,
    );
  }
  const tokenBody = (auth.body as { token?: Record<string, unknown> }).token ?? {};
  const catalog = (tokenBody['catalog'] ?? []) as CatalogEntry[];
  const projectId = str((tokenBody['project'] as { id?: unknown } | undefined)?.id);
  const userId = str((tokenBody['user'] as { id?: unknown } | undefined)?.id);
  const region = cloud.regionName ?? catalogRegion(catalog) ?? 'RegionOne';
  const endpoints = publicEndpoints(catalog, region);

  // A catalog entry whose endpoint does not answer counts as absent: Tempest would only fail on it.
  const services: DiscoveredService[] = [];
  const catalogOnly: string[] = [];
  for (const [type, url] of endpoints) {
    const service: DiscoveredService = { type, publicUrl: url };
    let answered = type === 'identity';
    if (type !== 'identity') {
      for (const candidate of versionDocumentUrls(url, projectId)) {
        const doc = await tryHttp(candidate, token);
        if (!doc || !isAnswer(doc.status)) continue;
        answered = true;
        const range = parseVersionDocument(doc.body);
        if (range.maxMicroversion) {
          Object.assign(service, range);
          break;
        }
      }
    }
    if (answered) services.push(service);
    else catalogOnly.push(type);
  }

  const settings = await tryHttp(joinUrl(cloud.authUrl, '/monostack/settings'), token);
  const securityCompliance = parseSettings(settings?.status === 200 ? settings.body : undefined);
  const accessRules = userId
    ? (await tryHttp(joinUrl(cloud.authUrl, `/users/${userId}/access_rules`), token))?.status === 200
    : false;

  const discovery: Discovery = {
    workspaceDir: opts.workspaceDir,
    identityUri: cloud.authUrl,
    region,
    admin: {
      username: cloud.username,
      password: cloud.password,
      projectName: cloud.projectName,
      userDomainName: cloud.userDomainName,
      projectDomainName: cloud.projectDomainName,
    },
    services,
    catalogOnly,
    securityCompliance,
    accessRules,
    runValidation: opts.runValidation,
  };

  const compute = endpoints.get('compute');
  const image = endpoints.get('image');
  if (compute || image) discovery.compute = await discoverComputeRefs(compute, image, token);
  const network = endpoints.get('network');
  if (network) discovery.network = await discoverNetwork(network, token);
  return discovery;
}

function networkBase(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return /\/v2\.0$/.test(trimmed) ? trimmed : `${trimmed}/v2.0`;
}

function imageBase(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return /\/v2$/.test(trimmed) ? trimmed : `${trimmed}/v2`;
}

/** The two smallest flavors and the first two active images, for [compute] *_ref options. */
async function discoverComputeRefs(
  compute: string | undefined,
  image: string | undefined,
  token: string,
): Promise<NonNullable<Discovery['compute']>> {
  const refs: NonNullable<Discovery['compute']> = {};
  if (compute) {
    const res = await tryHttp(joinUrl(compute, '/flavors/detail'), token);
    const flavors = (
      (res?.body as { flavors?: { id: string; ram?: number; vcpus?: number }[] })?.flavors ?? []
    )
      .slice()
      .sort((a, b) => (a.ram ?? 0) - (b.ram ?? 0) || (a.vcpus ?? 0) - (b.vcpus ?? 0));
    if (flavors[0]) refs.flavorRef = flavors[0].id;
    if (flavors[0]) refs.flavorRefAlt = (flavors[1] ?? flavors[0]).id;
  }
  if (compute) {
    // A real hypervisor boots only real images: wait for the test image `monostack up` registers.
    const hv = await tryHttp(joinUrl(compute, '/os-hypervisors/detail'), token);
    const hypervisors =
      (hv?.body as { hypervisors?: { hypervisor_type?: string; state?: string }[] })?.hypervisors ?? [];
    const types = hypervisors.map((h) => h.hypervisor_type);
    refs.realHypervisor = types.some((t) => t !== undefined && t !== 'fake');
    // Tempest's multinode and migration tests run only when told how many compute nodes there are.
    refs.computeNodes = hypervisors.filter((h) => h.state === undefined || h.state === 'up').length;
  }
  if (image) {
    const base = imageBase(image);
    const bootable = async () => {
      const res = await tryHttp(joinUrl(base, '/images?status=active&limit=100'), token);
      const all = (res?.body as { images?: ImageSummary[] })?.images ?? [];
      // Kernels and ramdisks (aki/ari) are parts of an AMI-style image, not bootable on their own.
      const disks = all.filter((i) => i.disk_format !== 'aki' && i.disk_format !== 'ari');
      return refs.realHypervisor ? disks.filter((i) => i.name?.startsWith(TEST_IMAGE_PREFIX)) : disks;
    };
    let images = await bootable();
    for (let waited = 0; refs.realHypervisor && images.length === 0 && waited < 300; waited += 2) {
      await new Promise((r) => setTimeout(r, 2000));
      images = await bootable();
    }
    if (images.length < 2 && compute) {
      // Compute tests boot from [compute] image_ref and rebuild to image_ref_alt (tests needing two images skip
      // when both are one): give the cloud a second image — a copy of the bootable one, or a tiny blob the fake
      // driver boots.
      if (images[0] && refs.realHypervisor)
        await copyImage(base, token, images[0], `${TEST_IMAGE_PREFIX}-alt`);
      else for (let i = images.length; i < 2; i++) await seedImage(base, token);
      images = await bootable();
    }
    if (images[0]) refs.imageRef = images[0].id;
    if (images[0]) refs.imageRefAlt = (images[1] ?? images[0]).id;
  }
  return refs;
}

/** Names of the test images a real hypervisor boots (monostack up registers `monostack-test`). */
const TEST_IMAGE_PREFIX = 'monostack-test';

interface ImageSummary {
  id: string;
  name?: string;
  disk_format?: string;
  container_format?: string;
  [property: string]: unknown;
}

/** A public copy of an image (its properties and its data) under another name. */
async function copyImage(base: string, token: string, src: ImageSummary, name: string): Promise<void> {
  const keep = ['kernel_id', 'ramdisk_id', 'os_command_line', 'min_disk', 'min_ram'];
  const body: Record<string, unknown> = {
    name,
    disk_format: src.disk_format,
    container_format: src.container_format,
    visibility: 'public',
  };
  for (const k of keep) if (src[k] !== undefined && src[k] !== null) body[k] = src[k];
  const created = await fetch(`${base}/images`, {
    method: 'POST',
    headers: { 'x-auth-token': token, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (created.status !== 201) return;
  const { id } = (await created.json()) as { id: string };
  const data = await fetch(`${base}/images/${src.id}/file`, { headers: { 'x-auth-token': token } });
  await fetch(`${base}/images/${id}/file`, {
    method: 'PUT',
    headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(await data.arrayBuffer()),
  });
}

/** Creates and uploads a tiny public image (the fake driver boots anything; a real driver brings its own). */
async function seedImage(base: string, token: string): Promise<void> {
  const created = await fetch(`${base}/images`, {
    method: 'POST',
    headers: { 'x-auth-token': token, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'conformance-image',
      disk_format: 'raw',
      container_format: 'bare',
      visibility: 'public',
    }),
  });
  if (created.status !== 201) return;
  const { id } = (await created.json()) as { id: string };
  await fetch(`${base}/images/${id}/file`, {
    method: 'PUT',
    headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(1024 * 1024),
  });
}

/** The external network and the API extensions Neutron announces. */
async function discoverNetwork(url: string, token: string): Promise<NonNullable<Discovery['network']>> {
  const base = networkBase(url);
  const out: NonNullable<Discovery['network']> = {};
  const ext = await tryHttp(`${base}/extensions`, token);
  const aliases = ((ext?.body as { extensions?: { alias?: string }[] })?.extensions ?? [])
    .map((e) => e.alias)
    .filter((a): a is string => typeof a === 'string' && a.length > 0);
  if (aliases.length) out.apiExtensions = aliases;
  const nets = await tryHttp(`${base}/networks?router:external=true`, token);
  const external = (nets?.body as { networks?: { id: string; name?: string }[] })?.networks?.[0];
  if (external) {
    out.publicNetworkId = external.id;
    if (external.name) out.floatingNetworkName = external.name;
  }
  return out;
}
