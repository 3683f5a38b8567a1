import type { Logger } from 'typeorm';
import type { MinimalLogger } from './minimal-logger.js';

/**
 * Sends TypeORM's own messages to the service's structured logger instead of the console (TypeORM 1 prints
 * migration messages even with `logging: false`). Queries and their errors are not logged: callers get the errors.
 */
export class TypeOrmLogBridge implements Logger {
  constructor(
    private readonly logger: MinimalLogger | undefined,
    private readonly service: string,
  ) {}

  logQuery(): void {}

  logQueryError(): void {}

  logQuerySlow(time: number, query: string): void {
    this.logger?.warn({ service: this.service, durationMs: time, query }, 'slow database query');
  }

  logSchemaBuild(): void {}

  logMigration(message: string): void {
    this.logger?.info({ service: this.service }, message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger?.warn({ service: this.service }, String(message));
    else this.logger?.info({ service: this.service }, String(message));
  }
}
