import { Controller, Get, Inject, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { AuditLogEntry } from '@llmops/contracts';
import type { Principal } from '@llmops/platform-auth';
import { z } from 'zod';
import { CurrentPrincipal, RequirePermission, type AuthenticatedRequest } from '../access/access-policy.decorator.js';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';
import { AUDIT_CLIENT, type AuditClient } from '../upstreams/upstream-clients.js';
import { upstreamMetadata } from '../upstreams/upstream-metadata.js';

const auditQuery = z.strictObject({
  from: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
  to: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
  actor_id: z.string().max(255).optional(),
  resource_type: z.string().max(100).optional(),
  resource_id: z.string().max(512).optional(),
  action: z.string().max(100).optional(),
  event_type: z.string().max(100).optional(),
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});

export interface AuditLogView {
  id: string;
  event_type: string;
  actor_id: string | null;
  actor_type: string;
  resource_type: string | null;
  resource_id: string | null;
  action: string;
  details: unknown;
  ip_address: string | null;
  user_agent: string | null;
  source: string;
  created_at: string;
}

@ApiTags('audit')
@ApiBearerAuth()
@ApiSecurity('apiKey')
@Controller('api/v1/audit_logs')
export class AuditLogsController {
  constructor(@Inject(AUDIT_CLIENT) private readonly audit: AuditClient) {}

  @Get()
  @RequirePermission('audit:read')
  @ApiOperation({ summary: 'Audit entries, newest first, with filters and a cursor' })
  @ApiQuery({ name: 'from', required: false })
  @ApiQuery({ name: 'to', required: false })
  @ApiQuery({ name: 'actor_id', required: false })
  @ApiQuery({ name: 'resource_type', required: false })
  @ApiQuery({ name: 'resource_id', required: false })
  @ApiQuery({ name: 'action', required: false })
  @ApiQuery({ name: 'event_type', required: false })
  @ApiQuery({ name: 'cursor', required: false })
  @ApiQuery({ name: 'limit', required: false })
  async list(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Query() query: Record<string, unknown>,
  ): Promise<{ data: AuditLogView[]; next_cursor: string | null }> {
    const parsed = auditQuery.safeParse(query);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) =>
        issue.code === 'unrecognized_keys' ? `unknown query parameter(s): ${issue.keys.join(', ')}` : `${issue.path.join('.')}: ${issue.message}`,
      );
      throw new GatewayException(GatewayErrorCode.ValidationError, problems.join('; '));
    }
    const filter = parsed.data;
    const data: AuditLogView[] = [];
    let nextCursor: string | null = null;
    const stream = this.audit.queryAuditLog(
      {
        from: filter.from ? timestampFromDate(new Date(filter.from)) : undefined,
        to: filter.to ? timestampFromDate(new Date(filter.to)) : undefined,
        actorId: filter.actor_id ?? '',
        resourceType: filter.resource_type ?? '',
        resourceId: filter.resource_id ?? '',
        action: filter.action ?? '',
        eventType: filter.event_type ?? '',
        cursor: filter.cursor ?? '',
        limit: filter.limit ?? 0,
      },
      { metadata: upstreamMetadata(request, principal) },
    );
    for await (const item of stream) {
      if (item.entry) data.push(viewOf(item.entry));
      if (item.cursor) nextCursor = item.cursor;
    }
    return { data, next_cursor: nextCursor };
  }
}

function viewOf(entry: AuditLogEntry): AuditLogView {
  return {
    id: entry.id,
    event_type: entry.eventType,
    actor_id: entry.actorId || null,
    actor_type: entry.actorType,
    resource_type: entry.resourceType || null,
    resource_id: entry.resourceId || null,
    action: entry.action,
    details: entry.details ?? {},
    ip_address: entry.ipAddress || null,
    user_agent: entry.userAgent || null,
    source: entry.source,
    created_at: entry.createdAt ? timestampDate(entry.createdAt).toISOString() : '',
  };
}
