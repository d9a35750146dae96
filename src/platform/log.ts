// Structured logging (pino); tokens and passwords are redacted by path.
import { type Logger, pino } from 'pino';

export type { Logger };

export function createLogger(opts: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: undefined,
      redact: {
        paths: [
          'req.headers["x-auth-token"]',
          'req.headers["x-subject-token"]',
          'password',
          '*.password',
          'secret',
          '*.secret',
          'token',
        ],
        censor: '***',
      },
    },
    opts.destination as pino.DestinationStream | undefined,
  );
}
