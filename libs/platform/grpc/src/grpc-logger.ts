/** Structural logger so this lib does not depend on the logging lib (pino satisfies it). */
export interface GrpcLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
