// GET /v2.0/extensions[/<alias>]: only the extensions that truly work (each area lists its own).
import type { Route } from '../../../platform/http/types.ts';
import { notFound } from '../errors.ts';

export interface ExtensionInfo {
  alias: string;
  name: string;
  description: string;
}

const UPDATED = '2016-01-01T10:00:00-00:00';

export function extensionRoutes(all: readonly ExtensionInfo[]): Route[] {
  const render = (e: ExtensionInfo) => ({ ...e, updated: UPDATED, links: [] });
  const sorted = [...all].sort((a, b) => a.alias.localeCompare(b.alias));
  return [
    {
      method: 'GET',
      path: '/network/v2.0/extensions',
      handler: () => ({ body: { extensions: sorted.map(render) } }),
    },
    {
      method: 'GET',
      path: '/network/v2.0/extensions/:alias',
      handler(ctx) {
        const e = all.find((x) => x.alias === ctx.params['alias']);
        if (!e) throw notFound('HTTPNotFound', `Extension with alias ${ctx.params['alias']} does not exist`);
        return { body: { extension: render(e) } };
      },
    },
  ];
}

/** Extensions of the framework and the network resource itself. */
export const baseExtensions: ExtensionInfo[] = [
  {
    alias: 'standard-attr-description',
    name: 'standard-attr-description',
    description: 'Extension to add descriptions to standard attributes',
  },
  {
    alias: 'standard-attr-revisions',
    name: 'Resource revision numbers',
    description: 'This extension will display the revision number of neutron resources.',
  },
  {
    alias: 'standard-attr-timestamp',
    name: 'Resource timestamps',
    description:
      'Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.',
  },
  {
    alias: 'standard-attr-tag',
    name: 'Tag support for resources with standard attribute: subnet, trunk, network_segment_range, router, network, policy, subnetpool, port, security_group, floatingip',
    description: 'Enables to set tag on resources with standard attribute.',
  },
  {
    alias: 'tag-ext',
    name: 'Tag support for resources: subnet, subnetpool, port, router',
    description: 'Extends tag support to more L2 and L3 resources.',
  },
  { alias: 'tag', name: 'Tag support', description: 'Enables to set tag on resources.' },
  {
    alias: 'revision-if-match',
    name: 'If-Match constraints based on revision_number',
    description: 'Extension indicating that If-Match based on revision_number is supported.',
  },
  {
    alias: 'filter-validation',
    name: 'Filter parameters validation',
    description: 'Provides validation on filter parameters.',
  },
  {
    alias: 'empty-string-filtering',
    name: 'Empty String Filtering Extension',
    description: 'Allow filtering by attributes with empty string value',
  },
  {
    alias: 'fields-sorting-pagination',
    name: 'Sorting and pagination',
    description: 'Sorting and pagination of collections',
  },
  {
    alias: 'pagination',
    name: 'Pagination support',
    description: 'Extension that indicates that pagination is enabled.',
  },
  {
    alias: 'sorting',
    name: 'Sorting support',
    description: 'Extension that indicates that sorting is enabled.',
  },
  {
    alias: 'project-id',
    name: 'project_id field enabled',
    description: 'Extension that indicates that project_id field is enabled.',
  },
  {
    alias: 'provider',
    name: 'Provider Network',
    description: 'Expose mapping of virtual networks to physical networks',
  },
  {
    alias: 'external-net',
    name: 'Neutron external network',
    description: 'Adds external network attribute to network resource.',
  },
  { alias: 'net-mtu', name: 'Network MTU', description: 'Provides MTU attribute for a network resource.' },
  {
    alias: 'net-mtu-writable',
    name: 'Network MTU (writable)',
    description: 'Provides a writable MTU attribute for a network resource.',
  },
  {
    alias: 'network_availability_zone',
    name: 'Network Availability Zone',
    description: 'Availability zone support for network.',
  },
  { alias: 'availability_zone', name: 'Availability Zone', description: 'The availability zone extension.' },
  { alias: 'port-security', name: 'Port Security', description: 'Provides port security' },
  { alias: 'l2_adjacency', name: 'L2 Adjacency', description: 'Display L2 Adjacency for Neutron Networks.' },
  {
    alias: 'default-subnetpools',
    name: 'Default Subnetpools',
    description: 'Provides ability to mark and use a subnetpool as the default.',
  },
  {
    alias: 'network-ip-availability',
    name: 'Network IP Availability',
    description: 'Provides IP availability data for each network and subnet.',
  },
];
