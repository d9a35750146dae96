// Bodies asking for a remote console: the per-protocol server actions (2.1-2.5) and POST remote-consoles (2.6+).

import { type JsonSchema, strict, type VersionedSchema, wrap } from './parameter-types.ts';

function consoleAction(action: string, types: string[]): VersionedSchema {
  return Object.freeze({ '2.1': wrap(action, strict({ type: { type: 'string', enum: types } }, ['type'])) });
}

export const getVNCConsole = consoleAction('os-getVNCConsole', ['novnc', 'xvpvnc']);
export const getSPICEConsole = consoleAction('os-getSPICEConsole', ['spice-html5']);
export const getRDPConsole = consoleAction('os-getRDPConsole', ['rdp-html5']);
export const getSerialConsole = consoleAction('os-getSerialConsole', ['serial']);

function remoteConsole(protocols: string[], types: string[]): JsonSchema {
  return wrap(
    'remote_console',
    strict(
      {
        protocol: { type: 'string', enum: protocols },
        type: { type: 'string', enum: types },
      },
      ['protocol', 'type'],
    ),
  );
}

/** POST /servers/{server_id}/remote-consoles: 2.6, and 2.8 adds the MKS protocol. */
export const remoteConsoleCreate: VersionedSchema = Object.freeze({
  '2.6': remoteConsole(
    ['vnc', 'spice', 'rdp', 'serial'],
    ['novnc', 'xvpvnc', 'rdp-html5', 'spice-html5', 'serial'],
  ),
  '2.8': remoteConsole(
    ['vnc', 'spice', 'rdp', 'serial', 'mks'],
    ['novnc', 'xvpvnc', 'rdp-html5', 'spice-html5', 'serial', 'webmks'],
  ),
});
