// Routers, their ports, floating IPs and port forwardings.

// biome-ignore lint/suspicious/noEmptyInterface: the owner of this area adds its tables here.
export interface L3Tables {}
