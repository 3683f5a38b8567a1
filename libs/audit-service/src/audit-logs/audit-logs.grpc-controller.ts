import { create } from '@bufbuild/protobuf';
import { timestampDate, timestampFromDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import { AuditLogEntrySchema, AuditService, type AuditLogEntry } from '@llmops/contracts';
import { authorize, principalFromMetadata } from '@llmops/platform-auth';
import type { CallContext, ServiceImplementation } from '@llmops/platform-grpc';
import type { AuditLogQuery, AuditLogRow } from './audit-log-query.js';
import { AuditException, AuditExceptionCode } from './exceptions/audit.exception.js';

/** AuditService over gRPC. */
export class AuditLogsGrpcController {
  constructor(private readonly query: AuditLogQuery) {}

  implementation(): ServiceImplementation<typeof AuditService> {
    return {
      queryAuditLog: (request, ctx) => this.queryAuditLog(request, ctx),
      verifyIntegrity: async (_request, ctx) => {
        this.authorize(ctx, 'audit:verify');
        throw new AuditException(
          AuditExceptionCode.NotAvailable,
          'integrity verification is not available yet: entries are not yet chained into a signed hash tree',
        );
      },
    };
  }

  private async *queryAuditLog(
    request: {
      from?: Timestamp;
      to?: Timestamp;
      actorId: string;
      resourceType: string;
      resourceId: string;
      action: string;
      eventType: string;
      cursor: string;
      limit: number;
    },
    ctx: CallContext,
  ) {
    this.authorize(ctx, 'audit:read');
    const page = await this.query.page({
      from: request.from ? timestampDate(request.from) : undefined,
      to: request.to ? timestampDate(request.to) : undefined,
      actorId: request.actorId || undefined,
      resourceType: request.resourceType || undefined,
      resourceId: request.resourceId || undefined,
      action: request.action || undefined,
      eventType: request.eventType || undefined,
      cursor: request.cursor || undefined,
      limit: request.limit || undefined,
    });
    for (const [index, row] of page.entries.entries()) {
      const isLast = index === page.entries.length - 1;
      // Only the last entry carries a cursor, and only when there is a next page.
      yield { entry: toProto(row), cursor: isLast ? (page.nextCursor ?? '') : '' };
    }
  }

  private authorize(ctx: CallContext, permission: 'audit:read' | 'audit:verify'): void {
    const principal = principalFromMetadata(ctx.metadata);
    if (!principal) {
      throw new AuditException(AuditExceptionCode.Unauthenticated, 'the call carries no authenticated principal');
    }
    const decision = authorize(principal, permission, { ip: ctx.metadata['x-actor-ip'] });
    if (!decision.allowed) throw new AuditException(AuditExceptionCode.PermissionDenied, decision.reason);
  }
}

function toProto(row: AuditLogRow): AuditLogEntry {
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
  });
}
