// Creating and deleting ports inside a transaction (the API and other areas through port-ops): MAC, IPAM,
// port security and security groups, cross-area hooks, tags and feed events.

import type { Change } from '../../../platform/db/writer.ts';
import { ApiError } from '../../../platform/errors.ts';
import type { NetworkContext, NetworkTrx } from '../context.ts';
import { conflict, notFound } from '../errors.ts';
import { compiled, compiledInsert } from '../store/compiled.ts';
import type { PortsTable } from '../store/tables-core.ts';
import { hooks } from './hooks.ts';
import { type Allocation, allocate, type FixedIpRequest, planAddresses } from './ipam.ts';
import { releaseAddresses } from './ipam-marks.ts';
import { randomMac } from './mac.ts';
import { implementPortOps } from './port-ops.ts';
import { portSecurityGroups } from './port-security-groups.ts';
import { subnetsOfNetwork } from './subnet-rows.ts';

export type Record_ = (c: Change) => void;

export interface AddressPair {
  ip_address: string;
  mac_address?: string;
}

export interface NewPort {
  projectId: string;
  networkId: string;
  name?: string;
  description?: string;
  adminStateUp?: boolean;
  macAddress?: string;
  deviceId?: string;
  deviceOwner?: string;
  fixedIps?: FixedIpRequest[];
  securityGroups?: string[];
  portSecurityEnabled?: boolean;
  hostId?: string;
  vnicType?: string;
  profile?: Record<string, unknown>;
  allowedAddressPairs?: AddressPair[];
  extraDhcpOpts?: Record<string, unknown>[];
}

export interface PortCreated {
  row: PortsTable;
  ips: Allocation[];
  groups: string[];
}

/** network:* ports are trusted: no default security group (Neutron's is_port_trusted). */
export const isTrusted = (owner: string): boolean => owner.startsWith('network:');

export function macInUse(networkId: string, mac: string): ApiError {
  return conflict(
    'MacAddressInUse',
    `Unable to complete operation for network ${networkId}. The mac address ${mac} is in use.`,
  );
}

export function portSecurityRequiredForPairs(): ApiError {
  return conflict(
    'AddressPairAndPortSecurityRequired',
    'Port Security must be enabled in order to have allowed address pairs on a port.',
  );
}

export function portSecurityRequiredForGroups(): ApiError {
  return new ApiError(
    400,
    'PortSecurityAndIPRequiredForSecurityGroups',
    'Port security must be enabled and port must have an IP address in order to use security groups.',
  );
}

const networkById = compiled(1, (db, id: string) =>
  db.selectFrom('network_networks').selectAll().where('id', '=', id),
);
const portWithMac = compiled(2, (db, networkId: string, mac: string) =>
  db
    .selectFrom('network_ports')
    .select('id')
    .where('network_id', '=', networkId)
    .where('mac_address', '=', mac),
);
const insertPort = compiledInsert('network_ports');

async function chooseMac(cx: NetworkContext, trx: NetworkTrx, networkId: string, given?: string) {
  const used = async (mac: string) => (await portWithMac(trx, networkId, mac)).length > 0;
  if (given !== undefined) {
    if (await used(given)) throw macInUse(networkId, given);
    return given;
  }
  for (let i = 0; i < 16; i++) {
    const mac = randomMac(cx.config.base_mac);
    if (!(await used(mac))) return mac;
  }
  throw conflict('MacAddressGenerationFailure', `Unable to generate unique mac on network ${networkId}.`);
}

/** Creates a port with its addresses and security groups; `attempt` is the caller's retry count. */
export async function createPort(
  cx: NetworkContext,
  trx: NetworkTrx,
  np: NewPort,
  record?: Record_,
  attempt = 0,
): Promise<PortCreated> {
  const [network] = await networkById(trx, np.networkId);
  if (!network) throw notFound('NetworkNotFound', `Network ${np.networkId} could not be found.`);
  const owner = np.deviceOwner ?? '';
  const pse = np.portSecurityEnabled ?? network.port_security_enabled === 1;
  const pairs = np.allowedAddressPairs ?? [];
  if (pairs.length > 0 && !pse) throw portSecurityRequiredForPairs();
  if (!pse && np.securityGroups !== undefined && np.securityGroups.length > 0)
    throw portSecurityRequiredForGroups();
  const mac = await chooseMac(cx, trx, network.id, np.macAddress);
  const now = cx.nowIso();
  const row: PortsTable = {
    id: cx.ids.uuid(),
    project_id: np.projectId,
    name: np.name ?? '',
    description: np.description ?? '',
    created_at: now,
    updated_at: now,
    revision_number: 1,
    network_id: network.id,
    mac_address: mac,
    admin_state_up: np.adminStateUp === false ? 0 : 1,
    status: 'DOWN',
    device_id: np.deviceId ?? '',
    device_owner: owner,
    port_security_enabled: pse ? 1 : 0,
    host_id: np.hostId ?? '',
    vnic_type: np.vnicType ?? 'normal',
    binding_profile: JSON.stringify(np.profile ?? {}),
    allowed_address_pairs: JSON.stringify(
      pairs.map((p) => ({ ip_address: p.ip_address, mac_address: p.mac_address ?? mac })),
    ),
    extra_dhcp_opts: JSON.stringify(np.extraDhcpOpts ?? []),
  };
  const subnets = await subnetsOfNetwork(trx, network.id, { withMarks: true });
  const plans = await planAddresses(trx, network.id, subnets, owner, np.fixedIps);
  await insertPort(trx, row);
  const ips = await allocate(trx, { id: row.id, networkId: network.id, mac }, plans, attempt);
  let groups: string[] = [];
  if (pse && (!isTrusted(owner) || (np.securityGroups !== undefined && np.securityGroups.length > 0)))
    groups = await portSecurityGroups().bind(
      cx,
      trx,
      { id: row.id, projectId: row.project_id, created: true },
      np.securityGroups,
    );
  record?.({ kind: 'port', id: row.id, action: 'create', projectId: row.project_id });
  return { row, ips, groups };
}

/** Deletes a port (any path): portDeleted hooks, security group bindings, addresses, tags. */
export async function deletePort(
  cx: NetworkContext,
  trx: NetworkTrx,
  portId: string,
  record?: Record_,
): Promise<PortsTable | undefined> {
  const row = await trx.selectFrom('network_ports').selectAll().where('id', '=', portId).executeTakeFirst();
  if (!row) return undefined;
  for (const h of hooks.portDeleted) await h(cx, trx, row);
  await portSecurityGroups().unbind(cx, trx, row.id);
  await releaseAddresses(
    trx,
    await trx
      .deleteFrom('network_ip_allocations')
      .where('port_id', '=', row.id)
      .returning(['subnet_id', 'ip_address'])
      .execute(),
  );
  await trx
    .deleteFrom('network_tags')
    .where('resource_type', '=', 'ports')
    .where('resource_id', '=', row.id)
    .execute();
  await trx.deleteFrom('network_ports').where('id', '=', row.id).execute();
  record?.({ kind: 'port', id: row.id, action: 'delete', projectId: row.project_id });
  return row;
}

/** Bumps a port's revision (its addresses or bindings changed) and records the update. */
export async function touchPort(
  cx: NetworkContext,
  trx: NetworkTrx,
  port: Pick<PortsTable, 'id' | 'project_id'>,
  record?: Record_,
): Promise<void> {
  const cur = await trx
    .selectFrom('network_ports')
    .select('revision_number')
    .where('id', '=', port.id)
    .executeTakeFirst();
  if (!cur) return;
  await trx
    .updateTable('network_ports')
    .set({ revision_number: cur.revision_number + 1, updated_at: cx.nowIso() })
    .where('id', '=', port.id)
    .execute();
  record?.({ kind: 'port', id: port.id, action: 'update', projectId: port.project_id });
}

/** Wires port-ops (the contract other areas create and delete ports through) to this implementation. */
export function installPortOps(): void {
  implementPortOps(
    async (cx, trx, input, record) => {
      const created = await createPort(
        cx,
        trx,
        {
          projectId: input.projectId,
          networkId: input.networkId,
          ...(input.name !== undefined ? { name: input.name } : {}),
          ...(input.deviceId !== undefined ? { deviceId: input.deviceId } : {}),
          ...(input.deviceOwner !== undefined ? { deviceOwner: input.deviceOwner } : {}),
          ...(input.fixedIps !== undefined ? { fixedIps: input.fixedIps } : {}),
          ...(input.macAddress !== undefined ? { macAddress: input.macAddress } : {}),
          ...(input.adminStateUp !== undefined ? { adminStateUp: input.adminStateUp } : {}),
          ...(input.securityGroups !== undefined ? { securityGroups: input.securityGroups } : {}),
          ...(input.portSecurityEnabled !== undefined
            ? { portSecurityEnabled: input.portSecurityEnabled }
            : {}),
          ...(input.hostId !== undefined ? { hostId: input.hostId } : {}),
        },
        record,
      );
      return {
        id: created.row.id,
        macAddress: created.row.mac_address,
        fixedIps: created.ips,
      };
    },
    async (cx, trx, portId, record) => {
      await deletePort(cx, trx, portId, record);
    },
  );
}
