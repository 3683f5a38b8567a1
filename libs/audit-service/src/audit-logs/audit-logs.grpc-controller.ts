import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  AuditLogEntrySchema,
  AuditService,
  SignedTreeHeadSchema,
  type AuditLogEntry,
  type ExportLogSegmentResponseSchema,
  type QueryAuditLogRequest,
  type SignedTreeHead,
} from '@llmops/contracts';
import { authorize, principalFromMetadata, type Permission } from '@llmops/platform-auth';
import type { CallContext, ServiceImplementation } from '@llmops/platform-grpc';
import type { IntegrityVerifier } from '../merkle-log/integrity-verifier.js';
import type { MerkleLogReader } from '../merkle-log/merkle-log-reader.js';
import type { StoredTreeHead } from '../merkle-log/merkle-log-writer.js';
import type { AuditLogRow } from './audit-entry.js';
import type { AuditLogQuery } from './audit-log-query.js';
import type { ComplianceReporter } from './compliance-report.js';
import { AuditException, AuditExceptionCode } from './exceptions/audit.exception.js';
import type { SensitiveDetailHasher } from './sensitive-detail-hasher.js';

/** AuditService over gRPC: queries, the Merkle log's heads and proofs, verification and the compliance report. */
export class AuditLogsGrpcController {
  constructor(
    private readonly query: AuditLogQuery,
    private readonly reader: MerkleLogReader,
    private readonly verifier: IntegrityVerifier,
    private readonly reporter: ComplianceReporter,
    private readonly hasher: SensitiveDetailHasher,
  ) {}

  implementation(): ServiceImplementation<typeof AuditService> {
    return {
      queryAuditLog: (request, ctx) => this.queryAuditLog(request, ctx),
      verifyIntegrity: async (request, ctx) => {
        this.authorize(ctx, 'audit:verify');
        const report = await this.verifier.verify(sizeOf(request.treeSize, 'tree_size'));
        return {
          valid: report.valid,
          treeSize: BigInt(report.treeSize),
          rootHash: report.rootHash,
          treeHeadsChecked: BigInt(report.treeHeadsChecked),
          entriesPruned: BigInt(report.entriesPruned),
          violations: report.violations.map((violation) => ({
            index: BigInt(violation.index),
            kind: violation.kind,
            detail: violation.detail,
            entryId: violation.entryId ?? '',
          })),
        };
      },
      getSignedTreeHead: async (request, ctx) => {
        this.authorize(ctx, 'audit:read');
        return { treeHead: treeHeadToProto(await this.reader.treeHead(sizeOf(request.treeSize, 'tree_size'))) };
      },
      getInclusionProof: async (request, ctx) => {
        this.authorize(ctx, 'audit:read');
        const proof = await this.reader.inclusionProof(request.entryId, sizeOf(request.treeSize, 'tree_size'));
        return {
          leafIndex: BigInt(proof.leafIndex),
          treeSize: BigInt(proof.treeSize),
          leafHash: proof.leafHash,
          auditPath: proof.auditPath,
          entry: entryToProto(proof.entry),
          treeHead: proof.treeHead ? treeHeadToProto(proof.treeHead) : undefined,
        };
      },
      getConsistencyProof: async (request, ctx) => {
        this.authorize(ctx, 'audit:read');
        const first = sizeOf(request.first, 'first');
        const second = sizeOf(request.second, 'second');
        return { first: request.first, second: request.second, proof: await this.reader.consistencyProof(first, second) };
      },
      listSigningKeys: async (_request, ctx) => {
        this.authorize(ctx, 'audit:read');
        const keys = await this.reader.signingKeys();
        return {
          keys: keys.map((key) => ({
            keyId: key.keyId,
            algorithm: key.algorithm,
            publicKeyPem: key.publicKeyPem,
            activatedAt: timestampFromDate(key.activatedAt),
            retiredAt: key.retiredAt ? timestampFromDate(key.retiredAt) : undefined,
          })),
        };
      },
      exportLogSegment: (request, ctx) => this.exportLogSegment(request, ctx),
      hashDetailValue: async (request, ctx) => {
        this.authorize(ctx, 'audit:read');
        return { hash: this.hasher.hashValue(request.value) };
      },
      getComplianceReport: async (request, ctx) => {
        this.authorize(ctx, 'audit:read');
        if (!request.from || !request.to) {
          throw new AuditException(AuditExceptionCode.InvalidQuery, 'from and to are required', request.from ? 'to' : 'from');
        }
        const report = await this.reporter.report(timestampDate(request.from), timestampDate(request.to));
        const head = await this.reader.latestTreeHead();
        return {
          from: timestampFromDate(report.from),
          to: timestampFromDate(report.to),
          totalEvents: BigInt(report.totalEvents),
          sections: report.sections.map((section) => ({
            name: section.name,
            total: BigInt(section.total),
            byEventType: section.byEventType.map(({ key, count }) => ({ key, count: BigInt(count) })),
            topActors: section.topActors.map(({ key, count }) => ({ key, count: BigInt(count) })),
          })),
          treeHead: head ? treeHeadToProto(head) : undefined,
        };
      },
    };
  }

  private async *queryAuditLog(request: QueryAuditLogRequest, ctx: CallContext) {
    this.authorize(ctx, 'audit:read');
    const page = await this.query.page({
      from: request.from ? timestampDate(request.from) : undefined,
      to: request.to ? timestampDate(request.to) : undefined,
      actorId: request.actorId || undefined,
      resourceType: request.resourceType || undefined,
      resourceId: request.resourceId || undefined,
      action: request.action || undefined,
      eventType: request.eventType || undefined,
      details: Object.keys(request.details).length > 0 ? request.details : undefined,
      cursor: request.cursor || undefined,
      limit: request.limit || undefined,
    });
    for (const [index, row] of page.entries.entries()) {
      const isLast = index === page.entries.length - 1;
      // Only the last entry carries a cursor, and only when there is a next page.
      yield { entry: entryToProto(row), cursor: isLast ? (page.nextCursor ?? '') : '' };
    }
  }

  private async *exportLogSegment(
    request: { start: bigint; end: bigint; treeSize: bigint },
    ctx: CallContext,
  ): AsyncGenerator<MessageInitShape<typeof ExportLogSegmentResponseSchema>> {
    this.authorize(ctx, 'audit:read');
    const { header, entries } = await this.reader.exportSegment(
      sizeOf(request.start, 'start'),
      sizeOf(request.end, 'end'),
      sizeOf(request.treeSize, 'tree_size'),
    );
    yield {
      item: {
        case: 'header',
        value: {
          treeHead: treeHeadToProto(header.treeHead),
          start: BigInt(header.start),
          end: BigInt(header.end),
          leftProof: header.leftProof,
          rightProof: header.rightProof,
          prunedLeaves: Object.fromEntries([...header.prunedLeaves].map(([index, hash]) => [String(index), hash])),
        },
      },
    };
    for await (const entry of entries) {
      if (ctx.signal.aborted) return;
      yield { item: { case: 'entry', value: entryToProto(entry) } };
    }
  }

  private authorize(ctx: CallContext, permission: Permission): void {
    const principal = principalFromMetadata(ctx.metadata);
    if (!principal) {
      throw new AuditException(AuditExceptionCode.Unauthenticated, 'the call carries no authenticated principal');
    }
    const decision = authorize(principal, permission, { ip: ctx.metadata['x-actor-ip'] });
    if (!decision.allowed) throw new AuditException(AuditExceptionCode.PermissionDenied, decision.reason);
  }
}

function sizeOf(value: bigint, field: string): number {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new AuditException(AuditExceptionCode.InvalidQuery, `${field} must be a non-negative integer`, field);
  }
  return Number(value);
}

export function treeHeadToProto(head: StoredTreeHead): SignedTreeHead {
  return create(SignedTreeHeadSchema, {
    treeSize: BigInt(head.treeSize),
    rootHash: head.rootHash,
    timestamp: BigInt(head.timestamp),
    keyId: head.keyId,
    signature: head.signature,
  });
}

export function entryToProto(row: AuditLogRow): AuditLogEntry {
  return create(AuditLogEntrySchema, {
    id: row.id,
    eventType: row.eventType,
    actorId: row.actorId ?? '',
    actorType: row.actorType,
    resourceType: row.resourceType ?? '',
    resourceId: row.resourceId ?? '',
    action: row.action,
    details: row.details as never,
    ipAddress: row.ipAddress ?? '',
    userAgent: row.userAgent ?? '',
    createdAt: timestampFromDate(row.createdAt),
    source: row.source,
    sequence: BigInt(row.leafIndex ?? -1),
    correlationId: row.correlationId ?? '',
  });
}
