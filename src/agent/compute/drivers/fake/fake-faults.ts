// Configurable delays, injected faults and call statistics for the fake hypervisor driver.
import { setTimeout as sleep } from 'node:timers/promises';
import { DriverError, type DriverOp } from '../../hypervisor-driver.ts';

/** A fault for one operation: skip the first `skip` calls, then fail `times` calls (all when absent). */
export interface FaultRule {
  message: string;
  skip?: number;
  times?: number;
  transient?: boolean;
  code?: number;
}

/** Decides a fault per call; `call` counts calls of `op` from 1. Return an Error to fail the call. */
export type FaultPredicate = (op: DriverOp, guestId: string | undefined, call: number) => Error | undefined;

export interface DriverStats {
  calls: Partial<Record<DriverOp, number>>;
  /** Operations running now (inside their delay). */
  active: number;
  /** The most operations ever running at once. */
  maxActive: number;
}

/** Runs each driver call through its delay and fault rules and counts it. */
export class FaultPlan {
  readonly #delays: Partial<Record<DriverOp, number>>;
  readonly #rules = new Map<DriverOp, { rule: FaultRule; seen: number; fired: number }>();
  #predicate: FaultPredicate | undefined;
  readonly #calls: Partial<Record<DriverOp, number>> = {};
  #active = 0;
  #maxActive = 0;

  constructor(
    delays: Partial<Record<DriverOp, number>> = {},
    faults: Partial<Record<DriverOp, FaultRule>> = {},
    predicate?: FaultPredicate,
  ) {
    this.#delays = { ...delays };
    for (const [op, rule] of Object.entries(faults) as [DriverOp, FaultRule][]) this.setFault(op, rule);
    this.#predicate = predicate;
  }

  /** Replaces the rule for `op`; undefined clears it. */
  setFault(op: DriverOp, rule: FaultRule | undefined): void {
    if (rule) this.#rules.set(op, { rule, seen: 0, fired: 0 });
    else this.#rules.delete(op);
  }

  setPredicate(predicate: FaultPredicate | undefined): void {
    this.#predicate = predicate;
  }

  setDelay(op: DriverOp, ms: number): void {
    this.#delays[op] = ms;
  }

  stats(): DriverStats {
    return { calls: { ...this.#calls }, active: this.#active, maxActive: this.#maxActive };
  }

  /** Counts the call, waits its delay, then throws its fault if one applies. */
  async enter(op: DriverOp, guestId?: string): Promise<void> {
    const call = (this.#calls[op] ?? 0) + 1;
    this.#calls[op] = call;
    const delay = this.#delays[op] ?? 0;
    this.#active++;
    if (this.#active > this.#maxActive) this.#maxActive = this.#active;
    try {
      if (delay > 0) await sleep(delay);
    } finally {
      this.#active--;
    }
    const injected = this.#predicate?.(op, guestId, call);
    if (injected) throw injected;
    const entry = this.#rules.get(op);
    if (!entry) return;
    entry.seen++;
    if (entry.seen <= (entry.rule.skip ?? 0)) return;
    if (entry.rule.times !== undefined && entry.fired >= entry.rule.times) return;
    entry.fired++;
    throw new DriverError(entry.rule.message, { transient: entry.rule.transient, code: entry.rule.code });
  }
}
