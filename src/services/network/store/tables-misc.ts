// Quotas, RBAC policies and the network agents of each host.

// biome-ignore lint/suspicious/noEmptyInterface: the owner of this area adds its tables here.
export interface MiscTables {}
