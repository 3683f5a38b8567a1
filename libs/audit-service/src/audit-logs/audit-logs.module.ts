import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from '@llmops/platform-observability';
import type { Database } from '@llmops/platform-persistence';
import { IntegrityVerifier } from '../merkle-log/integrity-verifier.js';
import { MerkleLogReader } from '../merkle-log/merkle-log-reader.js';
import { MerkleLogWriter } from '../merkle-log/merkle-log-writer.js';
import type { TreeHeadSigner } from '../merkle-log/tree-head-signer.js';
import { AuditLogQuery } from './audit-log-query.js';
import { AuditLogRecorder } from './audit-log-recorder.js';
import { AuditLogsGrpcController } from './audit-logs.grpc-controller.js';
import { ComplianceReporter } from './compliance-report.js';
import type { SensitiveDetailHasher } from './sensitive-detail-hasher.js';

export interface AuditLogsDependencies {
  database: Database;
  logger: Logger;
  signer: TreeHeadSigner;
  hasher: SensitiveDetailHasher;
  maxBatchSize: number;
}

const DEPENDENCIES = Symbol('AUDIT_LOGS_DEPENDENCIES');

@Module({})
export class AuditLogsModule {
  static register(dependencies: AuditLogsDependencies): DynamicModule {
    const inject = [DEPENDENCIES];
    return {
      module: AuditLogsModule,
      providers: [
        { provide: DEPENDENCIES, useValue: dependencies },
        { provide: MerkleLogWriter, useFactory: (d: AuditLogsDependencies) => new MerkleLogWriter(d.signer), inject },
        { provide: MerkleLogReader, useFactory: (d: AuditLogsDependencies) => new MerkleLogReader(d.database), inject },
        { provide: IntegrityVerifier, useFactory: (d: AuditLogsDependencies) => new IntegrityVerifier(d.database), inject },
        { provide: ComplianceReporter, useFactory: (d: AuditLogsDependencies) => new ComplianceReporter(d.database), inject },
        { provide: AuditLogQuery, useFactory: (d: AuditLogsDependencies) => new AuditLogQuery(d.database, d.hasher), inject },
        {
          provide: AuditLogRecorder,
          useFactory: (d: AuditLogsDependencies, writer: MerkleLogWriter) =>
            new AuditLogRecorder(d.database, writer, d.hasher, d.logger, d.maxBatchSize),
          inject: [DEPENDENCIES, MerkleLogWriter],
        },
        {
          provide: AuditLogsGrpcController,
          useFactory: (
            d: AuditLogsDependencies,
            query: AuditLogQuery,
            reader: MerkleLogReader,
            verifier: IntegrityVerifier,
            reporter: ComplianceReporter,
          ) => new AuditLogsGrpcController(query, reader, verifier, reporter, d.hasher),
          inject: [DEPENDENCIES, AuditLogQuery, MerkleLogReader, IntegrityVerifier, ComplianceReporter],
        },
      ],
      exports: [AuditLogQuery, AuditLogRecorder, AuditLogsGrpcController, MerkleLogWriter, MerkleLogReader, IntegrityVerifier],
    };
  }
}
