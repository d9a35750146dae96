// haproxy's configuration for one DHCP namespace: 169.254.169.254:80 → the agent's metadata proxy socket.
import { METADATA_IP } from './dnsmasq-config.ts';

/**
 * Adds X-Forwarded-For (the VM's address) and X-Neutron-Network-ID (set here, whatever the client sent) and
 * forwards to the unix socket of the agent's metadata proxy.
 */
export function renderHaproxyConfig(networkId: string, socketPath: string, pidFile: string): string {
  return [
    'global',
    '  daemon',
    '  maxconn 1024',
    `  pidfile ${pidFile}`,
    '',
    'defaults',
    '  mode http',
    '  option http-server-close',
    '  option forwardfor',
    '  retries 3',
    '  timeout http-request 30s',
    '  timeout connect 5s',
    '  timeout client 32s',
    '  timeout server 32s',
    '  timeout http-keep-alive 30s',
    '',
    'listen metadata',
    `  bind ${METADATA_IP}:80`,
    '  http-request del-header X-Neutron-Network-ID',
    '  http-request del-header X-Forwarded-For',
    `  http-request set-header X-Neutron-Network-ID ${networkId}`,
    `  server metadata unix@${socketPath}`,
    '',
  ].join('\n');
}
