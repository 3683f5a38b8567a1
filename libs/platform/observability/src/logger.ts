import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { trace } from '@opentelemetry/api';
import { pino, stdTimeFunctions, type DestinationStream, type LevelWithSilentOrString, type Logger } from 'pino';
import { currentRequestContext } from './request-context.js';

export type { Logger };

export interface LoggerOptions {
  service: string;
  version: string;
  level: LevelWithSilentOrString;
  /** Human-readable output; defaults to whether stdout is a terminal, so containers always get JSON. */
  pretty?: boolean;
  /** Where lines go; defaults to stdout. */
  destination?: DestinationStream;
}

export const REDACTED = '[REDACTED]';

const secretHeaders = ['authorization', 'cookie', 'x-api-key', 'x-vault-token'];
const secretKeys = [
  'password',
  'passphrase',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'secret',
  'client_secret',
  'api_key',
  'apiKey',
  'private_key',
  'privateKey',
  'authorization',
];

/**
 * Redaction paths. pino's `*` matches exactly one level, so secret keys are listed at the top level and up to two
 * levels deep (`{ user: { credentials: { password } } }`), which covers how we log objects.
 */
export const redactPaths: readonly string[] = [
  ...secretHeaders.map((header) => `req.headers["${header}"]`),
  'res.headers["set-cookie"]',
  ...secretKeys.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
];

/** Shared pino setup: JSON lines with service, version, ISO time, request/trace ids and secrets redacted. */
export function createLogger(options: LoggerOptions): Logger {
  const pretty = options.pretty ?? process.stdout.isTTY === true;
  const destination = pretty ? (prettyStream(options.destination) ?? options.destination) : options.destination;
  return pino(
    {
      level: options.level,
      base: { service: options.service, version: options.version, pid: process.pid, hostname: hostname() },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...redactPaths], censor: REDACTED },
      mixin: requestIds,
    },
    destination,
  );
}

function requestIds(): Record<string, string> {
  const context = currentRequestContext();
  const traceId = context?.traceId ?? trace.getActiveSpan()?.spanContext().traceId;
  const ids: Record<string, string> = {};
  if (context) ids['request_id'] = context.requestId;
  if (traceId) ids['trace_id'] = traceId;
  return ids;
}

type PrettyFactory = (options: { destination?: DestinationStream | number; sync?: boolean }) => DestinationStream;

/** pino-pretty is a dev dependency: where it is not installed (production images), fall back to JSON. */
function prettyStream(destination: DestinationStream | undefined): DestinationStream | undefined {
  try {
    const load = createRequire(import.meta.url);
    const pretty = load('pino-pretty') as PrettyFactory;
    return pretty({ destination: destination ?? 1, sync: true });
  } catch {
    return undefined;
  }
}
