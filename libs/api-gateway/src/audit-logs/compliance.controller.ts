import { Controller, Get, Headers, Inject, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { Principal } from '@llmops/platform-auth';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal, RequirePermission, type AuthenticatedRequest } from '../access/access-policy.decorator.js';
import { AUDIT_CLIENT, type AuditClient } from '../upstreams/upstream-clients.js';
import { upstreamMetadata } from '../upstreams/upstream-metadata.js';
import { complianceQuery, parseQuery } from './audit-log-requests.js';
import { complianceReportViewOf, type ComplianceReportView } from './audit-log-views.js';
import { acceptsCsvOverJson, complianceCsvFilename, complianceReportCsv, CSV_CONTENT_TYPE } from './compliance-report-csv.js';

/** Counting a year of events takes longer than the default 5 s unary deadline. */
const REPORT_TIMEOUT_MS = 60_000;

@ApiTags('compliance')
@ApiBearerAuth()
@ApiSecurity('apiKey')
@Controller('api/v1/compliance')
export class ComplianceController {
  constructor(@Inject(AUDIT_CLIENT) private readonly audit: AuditClient) {}

  @Get('report')
  @RequirePermission('audit:read')
  @ApiOperation({
    summary: 'Security-relevant events of a time range, per section, event type and top actor',
    description:
      'JSON by default; CSV (section,kind,key,count) with format=csv or Accept: text/csv. The signed tree head current ' +
      'when the report was made ties it to the state of the audit log.',
  })
  @ApiProduces('application/json', CSV_CONTENT_TYPE)
  @ApiOkResponse({ description: 'the report, as JSON or CSV' })
  @ApiQuery({ name: 'from', required: true, description: 'start of the range (inclusive), ISO 8601 date-time' })
  @ApiQuery({ name: 'to', required: true, description: 'end of the range (exclusive), ISO 8601 date-time' })
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'csv'] })
  async report(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Query() query: Record<string, unknown>,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ComplianceReportView | string> {
    const { from, to, format } = parseQuery(complianceQuery, query);
    const response = await this.audit.getComplianceReport(
      { from: timestampFromDate(new Date(from)), to: timestampFromDate(new Date(to)) },
      { metadata: upstreamMetadata(request, principal), timeoutMs: REPORT_TIMEOUT_MS },
    );
    const report = complianceReportViewOf(response);
    void reply.header('vary', 'accept');
    if (format === 'csv' || (format === undefined && acceptsCsvOverJson(accept))) {
      void reply
        .header('content-type', CSV_CONTENT_TYPE)
        .header('content-disposition', `attachment; filename="${complianceCsvFilename(report)}"`);
      return complianceReportCsv(report);
    }
    return report;
  }
}
