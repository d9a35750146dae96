// Kysely table types for the tables Placement owns, all prefixed placement_; timestamps as ISO strings.

export interface ProviderRow {
  uuid: string;
  name: string;
  generation: number;
  parent_uuid: string | null;
  root_uuid: string;
  created_at: string;
  updated_at: string;
}

export interface InventoryRow {
  rp_uuid: string;
  resource_class: string;
  total: number;
  reserved: number;
  min_unit: number;
  max_unit: number;
  step_size: number;
  allocation_ratio: number;
  created_at: string;
  updated_at: string;
}

export interface AllocationRow {
  consumer_id: string;
  rp_uuid: string;
  resource_class: string;
  used: number;
  created_at: string;
  updated_at: string;
}

export interface ConsumerRow {
  uuid: string;
  project_id: string;
  user_id: string;
  generation: number;
  /** Null for consumers written before 1.38 ("unknown" in usages). */
  consumer_type: string | null;
  created_at: string;
  updated_at: string;
}

/** Custom resource classes only; the standard ones live in code. */
export interface ResourceClassRow {
  name: string;
  created_at: string;
  updated_at: string;
}

/** Custom traits only; the standard ones live in code. */
export interface TraitRow {
  name: string;
  created_at: string;
}

export interface ProviderTraitRow {
  rp_uuid: string;
  trait: string;
}

export interface ProviderAggregateRow {
  rp_uuid: string;
  aggregate_uuid: string;
}

export interface PlacementTables {
  placement_resource_providers: ProviderRow;
  placement_inventories: InventoryRow;
  placement_allocations: AllocationRow;
  placement_consumers: ConsumerRow;
  placement_resource_classes: ResourceClassRow;
  placement_traits: TraitRow;
  placement_provider_traits: ProviderTraitRow;
  placement_provider_aggregates: ProviderAggregateRow;
}
