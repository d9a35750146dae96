// The auth methods of POST /v3/auth/tokens: password (with lockout and expiry), token (rescope),
// application_credential. Every failure is a 401 that does not reveal whether the user exists.
import { findAppCredential } from '../api/app-credentials.ts';
import type { IdentityContext } from '../context.ts';
import { parseJson } from '../context.ts';
import { IdentityErrors } from '../errors.ts';
import type { IdentityReader } from '../store/reader.ts';
import type { AppCredentialRow, UserRow } from '../store/tables.ts';
import type { TokenService, ValidatedToken } from '../tokens/service.ts';

interface UserRef {
  id?: string;
  name?: string;
  domain?: { id?: string; name?: string };
  password?: unknown;
}

export interface AuthMethods {
  methods: string[];
  password?: { user?: UserRef };
  token?: { id?: string };
  application_credential?: { id?: string; name?: string; secret?: unknown; user?: UserRef };
  [method: string]: unknown;
}

export interface Authenticated {
  user: UserRow;
  methods: string[];
  /** The token being rescoped, for the token method. */
  parent?: ValidatedToken;
  appCred?: AppCredentialRow;
}

const SUPPORTED = new Set(['password', 'token', 'application_credential']);

async function resolveUser(reader: IdentityReader, ref: UserRef | undefined): Promise<UserRow | undefined> {
  if (!ref || typeof ref !== 'object') throw IdentityErrors.expecting('user', 'password');
  if (ref.id !== undefined) {
    if (typeof ref.id !== 'string') throw IdentityErrors.validation(`Invalid input for field 'user/id'`);
    return reader.findUser(ref.id);
  }
  if (typeof ref.name !== 'string') throw IdentityErrors.expecting('id or name', 'user');
  const d = ref.domain;
  if (!d || (d.id === undefined && d.name === undefined)) throw IdentityErrors.expecting('domain', 'user');
  const domain =
    d.id !== undefined
      ? await reader.findDomain(String(d.id))
      : await reader.findDomainByName(String(d.name));
  if (!domain) return undefined;
  if (domain.enabled !== 1) throw IdentityErrors.unauthorized();
  return reader.findUserByName(domain.id, ref.name);
}

function isLocked(ix: IdentityContext, u: UserRow): boolean {
  const sc = ix.config.security_compliance;
  if (sc.lockout_failure_attempts <= 0) return false;
  if (parseJson(u.options)['ignore_lockout_failure_attempts'] === true) return false;
  if (u.failed_auth_count < sc.lockout_failure_attempts) return false;
  const at = u.failed_auth_at ? Date.parse(u.failed_auth_at) : 0;
  return at + sc.lockout_duration * 1000 > ix.now();
}

async function passwordMethod(
  ix: IdentityContext,
  reader: IdentityReader,
  body: AuthMethods['password'],
): Promise<UserRow> {
  const ref = body?.user;
  const user = await resolveUser(reader, ref);
  const password = ref?.password;
  if (typeof password !== 'string') throw IdentityErrors.expecting('password', 'user');
  if (!user) throw IdentityErrors.unauthorized();
  if (isLocked(ix, user)) throw IdentityErrors.unauthorized(`The account is locked for user: ${user.id}.`);
  const ok = user.password_hash !== null && (await ix.passwords.verify(password, user.password_hash));
  if (!ok) {
    if (ix.config.security_compliance.lockout_failure_attempts > 0) {
      await ix.write(async (trx) => {
        // A lockout that has run out starts counting afresh.
        const fresh = await reader.findUser(user.id, trx);
        const expired =
          fresh && fresh.failed_auth_count >= ix.config.security_compliance.lockout_failure_attempts;
        await trx
          .updateTable('identity_users')
          .set((eb) => ({
            failed_auth_count: expired ? 1 : eb('failed_auth_count', '+', 1),
            failed_auth_at: ix.nowIso(),
          }))
          .where('id', '=', user.id)
          .execute();
      });
    }
    throw IdentityErrors.unauthorized();
  }
  if (user.enabled !== 1) throw IdentityErrors.unauthorized(`User ${user.id} is disabled.`);
  if (user.failed_auth_count > 0) {
    await ix.write(async (trx) => {
      await trx
        .updateTable('identity_users')
        .set({ failed_auth_count: 0, failed_auth_at: null })
        .where('id', '=', user.id)
        .execute();
    });
  }
  if (user.password_expires_at && Date.parse(user.password_expires_at) <= ix.now()) {
    throw IdentityErrors.unauthorized(
      `The password is expired and needs to be changed for user: ${user.id}.`,
    );
  }
  return user;
}

async function appCredentialMethod(
  ix: IdentityContext,
  reader: IdentityReader,
  body: AuthMethods['application_credential'],
): Promise<{ user: UserRow; appCred: AppCredentialRow }> {
  if (!body || typeof body !== 'object') throw IdentityErrors.expecting('application_credential', 'identity');
  if (typeof body.secret !== 'string') throw IdentityErrors.expecting('secret', 'application_credential');
  let row: AppCredentialRow | undefined;
  if (typeof body.id === 'string') {
    row = await findAppCredential(ix, { id: body.id });
  } else if (typeof body.name === 'string') {
    const owner = await resolveUser(reader, body.user);
    if (owner) row = await findAppCredential(ix, { name: body.name, userId: owner.id });
  } else {
    throw IdentityErrors.expecting('id or name', 'application_credential');
  }
  if (!row || !(await ix.passwords.verify(body.secret, row.secret_hash))) throw IdentityErrors.unauthorized();
  if (row.expires_at && Date.parse(row.expires_at) <= ix.now())
    throw IdentityErrors.unauthorized('Application credential has expired.');
  const user = await reader.findUser(row.user_id);
  if (!user || user.enabled !== 1) throw IdentityErrors.unauthorized();
  return { user, appCred: row };
}

/** Runs every requested method; all must name the same user. */
export async function authenticateIdentity(
  ix: IdentityContext,
  reader: IdentityReader,
  tokens: TokenService,
  identity: AuthMethods,
): Promise<Authenticated> {
  const methods = [...new Set(identity.methods)];
  if (methods.length === 0)
    throw IdentityErrors.validation("Invalid input for field 'identity/methods': [] is too short");
  for (const m of methods) {
    if (!SUPPORTED.has(m))
      throw IdentityErrors.unauthorized('Attempted to authenticate with an unsupported method.');
    if (identity[m] === undefined) throw IdentityErrors.expecting(m, 'identity');
  }
  let user: UserRow | undefined;
  let parent: ValidatedToken | undefined;
  let appCred: AppCredentialRow | undefined;
  const outMethods = new Set<string>();
  const same = (u: UserRow) => {
    if (user && user.id !== u.id) throw IdentityErrors.unauthorized('User IDs do not match.');
    user = u;
  };
  for (const m of methods) {
    outMethods.add(m);
    if (m === 'password') same(await passwordMethod(ix, reader, identity.password));
    else if (m === 'token') {
      const id = identity.token?.id;
      if (typeof id !== 'string') throw IdentityErrors.expecting('id', 'token');
      parent = await tokens.validate(id);
      if (parent.appCred)
        throw IdentityErrors.forbidden('Application credentials cannot be used to rescope a token.');
      if (parent.trust) {
        throw IdentityErrors.forbiddenAction(
          'Using trust-scoped token to create another token. Create a new trust-scoped token instead',
        );
      }
      for (const pm of parent.claims.methods) outMethods.add(pm);
      same(parent.user);
    } else {
      const r = await appCredentialMethod(ix, reader, identity.application_credential);
      appCred = r.appCred;
      same(r.user);
    }
  }
  return { user: user!, methods: [...outMethods], parent, appCred };
}
