// Security groups and their rules, and the groups each port carries.

// biome-ignore lint/suspicious/noEmptyInterface: the owner of this area adds its tables here.
export interface SecurityTables {}
