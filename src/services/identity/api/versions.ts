// Version discovery at / and /v3, as Keystone publishes it.
import type { Route } from '../../../platform/http/types.ts';
import type { IdentityContext } from '../context.ts';

export const IDENTITY_VERSION = { id: 'v3.14', status: 'stable', updated: '2020-04-07T00:00:00Z' } as const;

export function versionBody(base: string): Record<string, unknown> {
  return {
    ...IDENTITY_VERSION,
    links: [{ rel: 'self', href: `${base}/v3/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
  };
}

export function versionRoutes(ix: IdentityContext): Route[] {
  return [
    {
      method: 'GET',
      path: '/',
      auth: 'none',
      handler: (ctx) => ({ status: 300, body: { versions: { values: [versionBody(ctx.baseUrl())] } } }),
    },
    {
      method: 'GET',
      path: '/v3',
      auth: 'none',
      handler: (ctx) => ({ body: { version: versionBody(ctx.baseUrl()) } }),
    },
    {
      // Monostack's own: the security-compliance settings Tempest must be configured with.
      method: 'GET',
      path: '/v3/monostack/settings',
      auth: 'none',
      handler: () => {
        const sc = ix.config.security_compliance;
        return {
          body: {
            lockout_failure_attempts: sc.lockout_failure_attempts,
            lockout_duration: sc.lockout_duration,
            unique_last_password_count: sc.unique_last_password_count,
            minimum_password_age: sc.minimum_password_age,
            password_expires_days: sc.password_expires_days,
          },
        };
      },
    },
  ];
}
