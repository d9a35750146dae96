// A server's instance metadata as Nova's InstanceMetadata presents it: the EC2 tree per version, the OpenStack
// documents (meta_data.json, user_data, vendor data, network_data.json) per version, and path lookup.
import { randomBytes } from 'node:crypto';
import { type Ec2Dir, type Ec2Node, ec2Print, findInTree } from './ec2-tree.ts';
import type { InstanceFacts } from './instance.ts';
import { orderedNetworkData } from './network-data.ts';
import { pyJson } from './py-json.ts';
import {
  EC2_VERSIONS,
  ec2AtLeast,
  ec2Version,
  GRIZZLY,
  HAVANA,
  LIBERTY,
  NEWTON_ONE,
  NEWTON_TWO,
  OPENSTACK_VERSIONS,
  openstackVersion,
  osAtLeast,
  VICTORIA,
} from './versions.ts';

export const TEXT_PLAIN = 'text/plain';
export const APPLICATION_JSON = 'application/json';

export interface InstanceMetadataOptions {
  /** The requester's address; the EC2 local-ipv4 when the server has no fixed IPv4 (null on a config drive). */
  address?: string | null;
  /** Extra meta_data.json members (the config drive's admin_pass). */
  extraMd?: Record<string, unknown>;
  /** Injected files (personality), served as /openstack/content/NNNN and listed in meta_data.json "files". */
  files?: { path: string; contents: string | Uint8Array }[];
  /** Nova's [api] dhcp_domain: the hostname's domain ('' = the bare hostname). Default "novalocal". */
  dhcpDomain?: string;
  /** The StaticJSON vendor data (vendor_data.json; "static" in vendor_data2.json). Default {}. */
  vendorData?: Record<string, unknown>;
  /** Milliseconds since the epoch, to hide OpenStack versions dated in the future. Default: now. */
  now?: number;
  /** The 512 random bytes of meta_data.json's random_seed (test seam). */
  randomSeed?: () => Uint8Array;
}

/** What a metadata path answers: a document, or the password handler (GET shows it, POST sets it once). */
export type MetadataAnswer =
  | { kind: 'data'; body: string | Uint8Array; contentType: string }
  | { kind: 'password'; version: string };

const text = (body: string | Uint8Array): MetadataAnswer => ({ kind: 'data', body, contentType: TEXT_PLAIN });
const json = (body: string): MetadataAnswer => ({ kind: 'data', body, contentType: APPLICATION_JSON });

/** posixpath.normpath of an absolute path, as tokens ("/a//b/../c/" → ["a", "c"]). */
export function pathTokens(path: string): string[] {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out;
}

export class InstanceMetadata {
  readonly facts: InstanceFacts;
  readonly #opts: InstanceMetadataOptions;
  /** Injected content by key ("0000", …). */
  readonly #content = new Map<string, string | Uint8Array>();
  readonly #files: { path: string; content_path: string }[] = [];

  constructor(facts: InstanceFacts, opts: InstanceMetadataOptions = {}) {
    this.facts = facts;
    this.#opts = opts;
    for (const f of opts.files ?? []) {
      const key = String(this.#content.size).padStart(4, '0');
      this.#files.push({ path: f.path, content_path: `/content/${key}` });
      this.#content.set(key, f.contents);
    }
  }

  get uuid(): string {
    return this.facts.uuid;
  }

  get projectId(): string {
    return this.facts.projectId;
  }

  get userData(): Uint8Array | null {
    return this.facts.userData;
  }

  /** The hostname with Nova's dhcp_domain. */
  hostname(): string {
    const domain = this.#opts.dhcpDomain ?? 'novalocal';
    return domain ? `${this.facts.hostname}.${domain}` : this.facts.hostname;
  }

  /** The EC2 tree of a version ({"meta-data": …, "user-data": bytes}); undefined for an unknown version. */
  ec2Metadata(requested: string): Ec2Dir | undefined {
    const v = ec2Version(requested);
    if (!v) return undefined;
    const f = this.facts;
    const hostname = this.hostname();
    const fixed = f.network?.fixedIps?.[0] ?? '';
    const floating = f.network?.floatingIps?.[0] ?? '';
    const md: Ec2Dir = {
      'ami-id': f.ec2.amiId,
      'ami-launch-index': f.launchIndex,
      'ami-manifest-path': 'FIXME',
      'instance-id': f.ec2.instanceId,
      hostname,
      'local-ipv4': fixed || (this.#opts.address ?? null),
      'reservation-id': f.reservationId,
      'security-groups': [...f.securityGroups],
    };
    if (f.keyName) md['public-keys'] = { '0': { _name: `0=${f.keyName}`, 'openssh-key': f.keyData } };
    if (ec2AtLeast(v, '2007-01-19')) {
      md['local-hostname'] = hostname;
      md['public-hostname'] = hostname;
      md['public-ipv4'] = floating;
    }
    if (ec2AtLeast(v, '2007-08-29')) md['instance-type'] = f.flavorName;
    if (ec2AtLeast(v, '2007-12-15')) {
      md['block-device-mapping'] = { ...f.blockDeviceMapping };
      if (f.ec2.kernelId) md['kernel-id'] = f.ec2.kernelId;
      if (f.ec2.ramdiskId) md['ramdisk-id'] = f.ec2.ramdiskId;
    }
    if (ec2AtLeast(v, '2008-02-01')) md['placement'] = { 'availability-zone': f.availabilityZone };
    if (ec2AtLeast(v, '2008-09-01')) md['instance-action'] = 'none';
    const data: Ec2Dir = { 'meta-data': md };
    if (f.userData !== null) data['user-data'] = f.userData;
    return data;
  }

  /** meta_data.json of an OpenStack version (resolved or 'latest'). */
  metaDataJson(version: string): string {
    const f = this.facts;
    const md: Record<string, unknown> = { uuid: f.uuid };
    if (Object.keys(f.metadata).length > 0) md['meta'] = { ...f.metadata };
    if (this.#files.length > 0) md['files'] = this.#files;
    if (this.#opts.extraMd) Object.assign(md, this.#opts.extraMd);
    if (f.keyName && f.keypair) {
      md['public_keys'] = { [f.keypair.name]: f.keypair.publicKey };
      md['keys'] = [{ name: f.keypair.name, type: f.keypair.type, data: f.keypair.publicKey }];
    }
    md['hostname'] = this.hostname();
    md['name'] = f.name;
    md['launch_index'] = f.launchIndex;
    md['availability_zone'] = f.availabilityZone;
    if (osAtLeast(version, GRIZZLY)) {
      const seed = this.#opts.randomSeed?.() ?? randomBytes(512);
      md['random_seed'] = Buffer.from(seed).toString('base64');
    }
    if (osAtLeast(version, LIBERTY)) md['project_id'] = f.projectId;
    // Device roles (tagged NICs and disks) and pinned CPUs: Monostack's drivers report neither yet.
    if (osAtLeast(version, NEWTON_ONE)) md['devices'] = [];
    if (osAtLeast(version, VICTORIA)) md['dedicated_cpus'] = [];
    return pyJson(md);
  }

  /** network_data.json: "{}" without network info. */
  networkDataJson(): string {
    const d = this.facts.network?.networkData;
    return d ? pyJson(orderedNetworkData(d)) : '{}';
  }

  vendorDataJson(): string {
    return pyJson(this.#opts.vendorData ?? {});
  }

  vendorData2Json(): string {
    return pyJson({ static: this.#opts.vendorData ?? {} });
  }

  /** What /openstack/<version> lists. */
  versionListing(version: string): string[] {
    const out = ['meta_data.json'];
    if (this.facts.userData !== null) out.push('user_data');
    if (osAtLeast(version, GRIZZLY)) out.push('password');
    if (osAtLeast(version, HAVANA)) out.push('vendor_data.json');
    if (osAtLeast(version, LIBERTY)) out.push('network_data.json');
    if (osAtLeast(version, NEWTON_TWO)) out.push('vendor_data2.json');
    return out;
  }

  /** The OpenStack versions listed at /openstack: those not dated in the future, then "latest". */
  openstackVersions(): string[] {
    const today = new Date(this.#opts.now ?? Date.now()).toISOString().slice(0, 10);
    return [...OPENSTACK_VERSIONS.filter((v) => v <= today), 'latest'];
  }

  /** The answer for a request path (Nova's lookup); undefined for Nova's InvalidMetadataPath (404). */
  lookup(path: string): MetadataAnswer | undefined {
    let tokens = pathTokens(path);
    if (tokens[0] !== 'ec2' && tokens[0] !== 'openstack') tokens = ['ec2', ...tokens];
    if (tokens.length === 1) {
      return text(
        (tokens[0] === 'openstack' ? this.openstackVersions() : [...EC2_VERSIONS, 'latest']).join('\n'),
      );
    }
    if (tokens[0] === 'openstack') return this.#openstackItem(tokens.slice(1));
    const data = this.ec2Metadata(tokens[1]!);
    if (!data) return undefined;
    const node = findInTree(data, tokens.slice(2));
    return node === undefined ? undefined : text(ec2Print(node as Ec2Node));
  }

  #openstackItem(tokens: string[]): MetadataAnswer | undefined {
    if (tokens[0] === 'content') {
      if (tokens.length !== 2) return undefined;
      const c = this.#content.get(tokens[1]!);
      return c === undefined ? undefined : text(c);
    }
    const version = openstackVersion(tokens[0]!);
    if (!version) return undefined;
    const item = tokens.length === 1 ? 'version' : tokens.slice(1).join('/');
    switch (item) {
      case 'version':
        return text(this.versionListing(version).join('\n'));
      case 'meta_data.json':
        return json(this.metaDataJson(version));
      case 'user_data':
        return this.facts.userData === null ? undefined : text(this.facts.userData);
      case 'password':
        return osAtLeast(version, GRIZZLY) ? { kind: 'password', version } : undefined;
      case 'vendor_data.json':
        return osAtLeast(version, HAVANA) ? json(this.vendorDataJson()) : undefined;
      case 'vendor_data2.json':
        return osAtLeast(version, NEWTON_TWO) ? json(this.vendorData2Json()) : undefined;
      case 'network_data.json':
        // Served at every version (Nova checks none), as text/plain (Nova sets no JSON type for it).
        return text(this.networkDataJson());
      default:
        return undefined;
    }
  }

  /** Injected content by key, for the config drive. */
  content(): ReadonlyMap<string, string | Uint8Array> {
    return this.#content;
  }
}
