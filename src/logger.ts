/**
 * pino logger shared by the API, the worker and scripts: pretty on a terminal, JSON otherwise;
 * tokens, secrets and credentials are redacted wherever they appear in a log object.
 */
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

export const redactPaths = [
  'token',
  '*.token',
  'req.query.token',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'LINK_SECRET',
  'ADMIN_API_KEYS',
  'API_KEYS',
  'DATABASE_URL',
  'SMTP_URL',
  '*.LINK_SECRET',
  '*.ADMIN_API_KEYS',
  '*.API_KEYS',
  '*.DATABASE_URL',
  '*.SMTP_URL',
];

export function loggerOptions(level: string, pretty = process.stdout.isTTY === true): LoggerOptions {
  return {
    level,
    redact: { paths: redactPaths, censor: '[redacted]' },
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } }
      : {}),
  };
}

export function createLogger(level: string, name?: string): Logger {
  const options = loggerOptions(level);
  return pino(name ? { ...options, name } : options);
}
