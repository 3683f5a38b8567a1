/** The slice of a pino logger this lib uses; structural so it does not depend on the observability lib. */
export interface MinimalLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
