// Every POST /servers/{id}/action body by action key: its schema table and the microversions it exists in.

import * as mig from './migrate-server.schema.ts';
import type { VersionedSchema } from './parameter-types.ts';
import * as rc from './remote-consoles.schema.ts';
import * as a from './server-actions.schema.ts';

export interface ServerActionSpec {
  /** Body schemas keyed by the microversion each starts at (byVersion()). */
  readonly body: VersionedSchema;
  /** First microversion with the action (default 2.1). */
  readonly since?: string;
  /** Last microversion with the action (inclusive); absent when it is still there at 2.93. */
  readonly until?: string;
}

const at = (body: VersionedSchema, since?: string, until?: string): ServerActionSpec =>
  Object.freeze({ body, ...(since ? { since } : {}), ...(until ? { until } : {}) });

/**
 * Nova's server actions. `resetNetwork` remains only to answer 410 Gone. Policies per action are in
 * policy.ts (e.g. `os_compute_api:os-pause-server:pause`).
 */
export const serverActions: Readonly<Record<string, ServerActionSpec>> = Object.freeze({
  reboot: at(a.reboot),
  resize: at(a.resize),
  confirmResize: at(a.confirmResize),
  revertResize: at(a.revertResize),
  rebuild: at(a.rebuild),
  createImage: at(a.createImage),
  createBackup: at(a.createBackup),
  'os-start': at(a.start),
  'os-stop': at(a.stop),
  pause: at(a.pause),
  unpause: at(a.unpause),
  suspend: at(a.suspend),
  resume: at(a.resume),
  lock: at(a.lock),
  unlock: at(a.unlock),
  shelve: at(a.shelve),
  shelveOffload: at(a.shelveOffload),
  unshelve: at(a.unshelve),
  rescue: at(a.rescue),
  unrescue: at(a.unrescue),
  changePassword: at(a.changePassword),
  'os-resetState': at(a.resetState),
  resetNetwork: at(a.resetNetwork),
  injectNetworkInfo: at(a.injectNetworkInfo),
  forceDelete: at(a.forceDelete),
  restore: at(a.restore),
  'os-getConsoleOutput': at(a.getConsoleOutput),
  trigger_crash_dump: at(a.triggerCrashDump, '2.17'),
  addSecurityGroup: at(a.addSecurityGroup),
  removeSecurityGroup: at(a.removeSecurityGroup),
  addFixedIp: at(a.addFixedIp, undefined, '2.43'),
  removeFixedIp: at(a.removeFixedIp, undefined, '2.43'),
  addFloatingIp: at(a.addFloatingIp, undefined, '2.43'),
  removeFloatingIp: at(a.removeFloatingIp, undefined, '2.43'),
  migrate: at(mig.migrate),
  'os-migrateLive': at(mig.migrateLive),
  evacuate: at(mig.evacuate),
  'os-getVNCConsole': at(rc.getVNCConsole, undefined, '2.5'),
  'os-getSPICEConsole': at(rc.getSPICEConsole, undefined, '2.5'),
  'os-getRDPConsole': at(rc.getRDPConsole, undefined, '2.5'),
  'os-getSerialConsole': at(rc.getSerialConsole, undefined, '2.5'),
});
