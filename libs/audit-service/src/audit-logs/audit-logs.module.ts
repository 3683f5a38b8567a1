import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from '@llmops/platform-observability';
import type { Database } from '@llmops/platform-persistence';
import { AuditLogQuery } from './audit-log-query.js';
import { AuditLogRecorder } from './audit-log-recorder.js';
import { AuditLogsGrpcController } from './audit-logs.grpc-controller.js';

export const AUDIT_DATABASE = Symbol('AUDIT_DATABASE');
export const AUDIT_LOGGER = Symbol('AUDIT_LOGGER');

@Module({})
export class AuditLogsModule {
  static register(dependencies: { database: Database; logger: Logger }): DynamicModule {
    return {
      module: AuditLogsModule,
      providers: [
        { provide: AUDIT_DATABASE, useValue: dependencies.database },
        { provide: AUDIT_LOGGER, useValue: dependencies.logger },
        { provide: AuditLogQuery, useFactory: (db: Database) => new AuditLogQuery(db), inject: [AUDIT_DATABASE] },
        {
          provide: AuditLogRecorder,
          useFactory: (db: Database, logger: Logger) => new AuditLogRecorder(db, logger),
          inject: [AUDIT_DATABASE, AUDIT_LOGGER],
        },
        {
          provide: AuditLogsGrpcController,
          useFactory: (query: AuditLogQuery) => new AuditLogsGrpcController(query),
          inject: [AuditLogQuery],
        },
      ],
      exports: [AuditLogQuery, AuditLogRecorder, AuditLogsGrpcController],
    };
  }
}
