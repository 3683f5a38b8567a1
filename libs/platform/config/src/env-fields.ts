import { z } from 'zod';

/** A TCP port given as a string in the environment. */
/** A TCP port given as a string in the environment; 0 asks the OS for a free one (tests, side-by-side runs). */
export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

/** A URL whose scheme must be one of `schemes` (e.g. postgres, redis, nats). */
export const urlWithScheme = (...schemes: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return schemes.includes(new URL(value).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    },
    { message: `must be a URL with scheme ${schemes.join(' or ')}` },
  );

export const booleanFlag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .transform((v) => v === 'true' || v === '1' || v === 'yes')
    .default(fallback);

export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

/**
 * The variables every service reads. An unset DATABASE_URL / REDIS_URL / NATS_URL selects the embedded default
 * (PGlite, in-memory cache, in-process bus); setting one switches that part to the real server.
 */
export const infrastructureEnv = {
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: logLevel,
  DATABASE_URL: urlWithScheme('postgres', 'postgresql').optional(),
  REDIS_URL: urlWithScheme('redis', 'rediss').optional(),
  NATS_URL: urlWithScheme('nats', 'tls', 'ws', 'wss').optional(),
  NATS_STREAM: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a JetStream stream name').default('LLMOPS_EVENTS'),
  NATS_SUBJECT_ROOT: z.string().regex(/^[a-z0-9_-]{1,64}$/, 'must be one lower-case subject token').default('events'),
  QDRANT_URL: urlWithScheme('http', 'https').optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: urlWithScheme('http', 'https').optional(),
  DATA_DIR: z.string().default('.data'),
};
