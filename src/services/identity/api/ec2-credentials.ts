// /v3/users/{user_id}/credentials/OS-EC2: the EC2-compatible view of ec2-type credentials (Keystone's OS-EC2).
import { randomUUID } from 'node:crypto';
import type { Route } from '../../../platform/http/types.ts';
import type { IdentityContext } from '../context.ts';
import { IdentityErrors } from '../errors.ts';
import type { IdentityReader } from '../store/reader.ts';
import type { CredentialRow } from '../store/tables.ts';
import { ec2CredentialId, requirePrimaryAuth } from './credentials.ts';

function ec2View(r: CredentialRow, base: string): Record<string, unknown> {
  let blob: Record<string, unknown> = {};
  try {
    blob = JSON.parse(r.blob) as Record<string, unknown>;
  } catch {
    blob = {};
  }
  const access = (blob['access'] as string | undefined) ?? null;
  return {
    user_id: r.user_id,
    tenant_id: r.project_id,
    access,
    secret: blob['secret'] ?? null,
    trust_id: blob['trust_id'] ?? null,
    links: { self: `${base}/v3/users/${r.user_id}/credentials/OS-EC2/${access}` },
  };
}

const createSchema = {
  type: 'object',
  required: ['tenant_id'],
  properties: { tenant_id: { type: 'string', minLength: 1 } },
};

export function ec2CredentialRoutes(ix: IdentityContext, reader: IdentityReader): Route[] {
  const find = async (userId: string, access: string) => {
    const row = await ix.db
      .selectFrom('identity_credentials')
      .selectAll()
      .where('id', '=', ec2CredentialId(access))
      .executeTakeFirst();
    if (!row || row.type !== 'ec2' || row.user_id !== userId)
      throw IdentityErrors.notFound('credential', access);
    return row;
  };
  return [
    {
      method: 'GET',
      path: '/v3/users/:user_id/credentials/OS-EC2',
      policy: 'identity:ec2_list_credentials',
      async handler(ctx) {
        requirePrimaryAuth(ctx.requireAuth());
        const userId = ctx.params['user_id']!;
        await reader.getUser(userId);
        const rows = await ix.db
          .selectFrom('identity_credentials')
          .selectAll()
          .where('user_id', '=', userId)
          .where('type', '=', 'ec2')
          .execute();
        const base = ctx.baseUrl();
        return {
          body: {
            credentials: rows.map((r) => ec2View(r, base)),
            links: { self: `${base}/v3/users/${userId}/credentials/OS-EC2`, previous: null, next: null },
          },
        };
      },
    },
    {
      method: 'POST',
      path: '/v3/users/:user_id/credentials/OS-EC2',
      policy: 'identity:ec2_create_credential',
      target: (ctx) => ({ credential: { user_id: ctx.params['user_id'] } }),
      body: createSchema,
      async handler(ctx) {
        requirePrimaryAuth(ctx.requireAuth());
        const userId = ctx.params['user_id']!;
        await reader.getUser(userId);
        const projectId = (ctx.body as { tenant_id: string }).tenant_id;
        await reader.getProject(projectId);
        const access = randomUUID().replaceAll('-', '');
        const row: CredentialRow = {
          id: ec2CredentialId(access),
          user_id: userId,
          project_id: projectId,
          type: 'ec2',
          blob: JSON.stringify({ access, secret: randomUUID().replaceAll('-', ''), trust_id: null }),
          extra: '{}',
        };
        await ix.write(async (trx, record) => {
          await trx.insertInto('identity_credentials').values(row).execute();
          record({ kind: 'credential', id: row.id, action: 'create' });
        });
        return { status: 201, body: { credential: ec2View(row, ctx.baseUrl()) } };
      },
    },
    {
      method: 'GET',
      path: '/v3/users/:user_id/credentials/OS-EC2/:credential_id',
      policy: 'identity:ec2_get_credential',
      target: async (ctx) => ({
        credential: await find(ctx.params['user_id']!, ctx.params['credential_id']!),
      }),
      async handler(ctx) {
        requirePrimaryAuth(ctx.requireAuth());
        const row = await find(ctx.params['user_id']!, ctx.params['credential_id']!);
        return { body: { credential: ec2View(row, ctx.baseUrl()) } };
      },
    },
    {
      method: 'DELETE',
      path: '/v3/users/:user_id/credentials/OS-EC2/:credential_id',
      policy: 'identity:ec2_delete_credential',
      target: async (ctx) => ({
        credential: await find(ctx.params['user_id']!, ctx.params['credential_id']!),
      }),
      async handler(ctx) {
        requirePrimaryAuth(ctx.requireAuth());
        const row = await find(ctx.params['user_id']!, ctx.params['credential_id']!);
        await ix.write(async (trx, record) => {
          await trx.deleteFrom('identity_credentials').where('id', '=', row.id).execute();
          record({ kind: 'credential', id: row.id, action: 'delete' });
        });
        return { status: 204 };
      },
    },
  ];
}
