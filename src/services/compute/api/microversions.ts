// Nova's microversion range and the history we serve (Zed: 2.1 to 2.93), one line per version that changes
// something a handler or view reads.
import type { MicroversionSpec } from '../../../platform/http/microversion.ts';

export const MIN = '2.1';
export const MAX = '2.93';

export const computeMicroversions: MicroversionSpec = {
  serviceType: 'compute',
  min: MIN,
  max: MAX,
  legacyHeader: 'X-OpenStack-Nova-API-Version',
};

/** The versions our handlers branch on (see each handler for the exact behaviour). */
export const HISTORY: Readonly<Record<string, string>> = {
  '2.3':
    'server detail: OS-EXT-SRV-ATTR extended attributes (reservation_id, launch_index, hostname, …) for admins',
  '2.9': 'server: locked',
  '2.16': 'server: host_status',
  '2.19': 'server: description',
  '2.26': 'server: tags; list filters tags/tags-any/not-tags/not-tags-any',
  '2.37': 'create: networks required ("auto", "none" or a list)',
  '2.47': 'server: flavor embedded instead of a link',
  '2.52': 'create: tags',
  '2.55': 'flavor: description',
  '2.61': 'flavor: extra_specs in the body',
  '2.62': 'instance action events: host, hostId',
  '2.63': 'server: trusted_image_certificates',
  '2.66': 'list: changes-before',
  '2.69': 'down-cell minimal bodies (never happens here)',
  '2.71': 'server: server_groups',
  '2.73': 'server: locked_reason',
  '2.75': 'flavor swap 0 instead of ""',
  '2.89': 'volume attachments: attachment_id, bdm_uuid',
  '2.90': 'server: hostname settable',
  '2.93': 'rebuild of volume-backed servers',
};
