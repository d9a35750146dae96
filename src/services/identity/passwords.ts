// Password hashing: bcrypt (Keystone's default hasher and cost) on the libuv thread pool, off the event loop.
import { hash, verify } from '@node-rs/bcrypt';

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** True when the password matches; hashes Keystone wrote ($2a$/$2b$/$2y$ bcrypt) verify too. */
  verify(password: string, stored: string): Promise<boolean>;
}

export function bcryptHasher(rounds: number): PasswordHasher {
  return {
    hash: (password) => hash(password, { cost: rounds }),
    async verify(password, stored) {
      if (!/^\$2[abxy]\$\d\d\$/.test(stored)) return false;
      try {
        return await verify(password, stored);
      } catch {
        return false;
      }
    },
  };
}
