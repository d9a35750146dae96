// Routes of the compute resources around servers (flavors, keypairs, zones, aggregates, hosts, quotas, usage …).
import type { Route } from '../../../platform/http/types.ts';
import type { ComputeContext } from '../context.ts';
import { aggregateRoutes } from './aggregates.ts';
import { availabilityZoneRoutes } from './availability-zones.ts';
import { flavorAccessRoutes } from './flavor-access.ts';
import { flavorExtraSpecRoutes } from './flavor-extra-specs.ts';
import { flavorRoutes } from './flavors.ts';
import { hostRoutes } from './hosts.ts';
import { hypervisorRoutes } from './hypervisors.ts';
import { instanceUsageAuditLogRoutes } from './instance-usage-audit-log.ts';
import { keypairRoutes } from './keypairs.ts';
import { limitRoutes } from './limits.ts';
import { migrationRoutes } from './migrations.ts';
import { quotaClassRoutes } from './quota-classes.ts';
import { quotaSetRoutes } from './quota-sets.ts';
import { serverGroupRoutes } from './server-groups.ts';
import { serviceRoutes } from './services.ts';
import { simpleTenantUsageRoutes } from './simple-tenant-usage.ts';

export function resourceRoutes(cx: ComputeContext): Route[] {
  return [
    ...flavorRoutes(cx),
    ...flavorAccessRoutes(cx),
    ...flavorExtraSpecRoutes(cx),
    ...keypairRoutes(cx),
    ...availabilityZoneRoutes(cx),
    ...aggregateRoutes(cx),
    ...hypervisorRoutes(cx),
    ...hostRoutes(cx),
    ...serviceRoutes(cx),
    ...quotaSetRoutes(cx),
    ...quotaClassRoutes(cx),
    ...limitRoutes(cx),
    ...simpleTenantUsageRoutes(cx),
    ...instanceUsageAuditLogRoutes(cx),
    ...migrationRoutes(cx),
    ...serverGroupRoutes(cx),
  ];
}
