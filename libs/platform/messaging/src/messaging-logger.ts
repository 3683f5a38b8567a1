/** The structural slice of a pino logger this library needs, so it does not depend on the observability lib. */
export interface MessagingLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

const ignore = (): void => undefined;

export const silentLogger: MessagingLogger = { info: ignore, warn: ignore, error: ignore, debug: ignore };

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
