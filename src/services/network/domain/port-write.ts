// A write that retries when it lost a race on a unique index (an address, a MAC, a prefix taken by a
// concurrent transaction on PostgreSQL): the retry re-reads and either picks another or answers 409.
import { isUniqueViolation } from '../../../platform/db/errors.ts';
import type { Change } from '../../../platform/db/writer.ts';
import type { NetworkContext, NetworkTrx } from '../context.ts';
import { conflict } from '../errors.ts';

const ATTEMPTS = 20;

export async function writeRetrying<T>(
  cx: NetworkContext,
  fn: (trx: NetworkTrx, record: (c: Change) => void, attempt: number) => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await cx.write((trx, record) => fn(trx, record, attempt));
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      if (attempt + 1 >= ATTEMPTS)
        throw conflict('Conflict', 'The request conflicted with concurrent requests; try again.');
    }
  }
}
