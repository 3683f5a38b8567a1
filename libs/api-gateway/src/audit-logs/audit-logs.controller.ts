import { Readable } from 'node:stream';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiQuery,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { ExportLogSegmentResponse } from '@llmops/contracts';
import type { Principal } from '@llmops/platform-auth';
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import { CurrentPrincipal, RequirePermission, type AuthenticatedRequest } from '../access/access-policy.decorator.js';
import { ZodBodyPipe } from '../access/zod-body.pipe.js';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';
import { jsonSchemaOf } from '../openapi/json-schema.js';
import { AUDIT_CLIENT, type AuditClient } from '../upstreams/upstream-clients.js';
import { upstreamMetadata } from '../upstreams/upstream-metadata.js';
import {
  consistencyQuery,
  exportQuery,
  hashBody,
  parseAuditLogQuery,
  parseEntryId,
  parseQuery,
  treeSizeQuery,
  verifyBody,
} from './audit-log-requests.js';
import {
  auditLogViewOf,
  consistencyProofViewOf,
  inclusionProofViewOf,
  integrityReportViewOf,
  segmentEntryLineOf,
  segmentHeaderLineOf,
  signingKeyViewOf,
  treeHeadViewOf,
  type AuditLogView,
  type ConsistencyProofView,
  type InclusionProofView,
  type IntegrityReportView,
  type SegmentHeaderLine,
  type SigningKeyView,
  type TreeHeadView,
} from './audit-log-views.js';

const NDJSON_CONTENT_TYPE = 'application/x-ndjson';
/** Verification rebuilds the whole tree from the stored entries: far longer than the default 5 s unary deadline. */
const VERIFY_TIMEOUT_MS = 300_000;
/** A body is optional: `POST /verify` with none verifies the whole log. */
const verifyBodyPipe = new ZodBodyPipe(verifyBody);

const treeSizeParameter = {
  name: 'tree_size',
  required: false,
  description: 'size of a signed tree; the newest signed tree head when absent',
  schema: { type: 'integer' as const, minimum: 1 },
};

/**
 * The audit log over REST: entries, and its Merkle tree (RFC 9162) — signed tree heads, inclusion and consistency
 * proofs, signing keys, verifiable exports and a full integrity check. Hashes and signatures are standard base64.
 * Static routes are declared before `:id/proof` so none of them can be read as an entry id.
 */
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
  @ApiQuery({
    name: 'details.<field>',
    required: false,
    description:
      'exact match on a top-level detail field, e.g. details.email=a@example.com (up to 10; field names [A-Za-z0-9_.-]{1,64}); ' +
      'a sensitive field is matched by the HMAC of the value',
    schema: { type: 'string' },
  })
  async list(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Query() query: Record<string, unknown>,
  ): Promise<{ data: AuditLogView[]; next_cursor: string | null }> {
    const filter = parseAuditLogQuery(query);
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
        details: filter.details,
      },
      { metadata: upstreamMetadata(request, principal) },
    );
    for await (const item of stream) {
      if (item.entry) data.push(auditLogViewOf(item.entry));
      if (item.cursor) nextCursor = item.cursor;
    }
    return { data, next_cursor: nextCursor };
  }

  @Get('sth')
  @RequirePermission('audit:read')
  @ApiOperation({ summary: 'The newest signed tree head, or the one signed at tree_size' })
  @ApiQuery(treeSizeParameter)
  async signedTreeHead(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Query() query: Record<string, unknown>,
  ): Promise<{ tree_head: TreeHeadView }> {
    const { tree_size: treeSize } = parseQuery(treeSizeQuery, query);
    const response = await this.audit.getSignedTreeHead(
      { treeSize: BigInt(treeSize ?? 0) },
      { metadata: upstreamMetadata(request, principal) },
    );
    if (!response.treeHead) throw new GatewayException(GatewayErrorCode.Internal, 'internal error');
    return { tree_head: treeHeadViewOf(response.treeHead) };
  }

  @Get('consistency')
  @RequirePermission('audit:read')
  @ApiOperation({ summary: 'Proof that the tree of size second extends the tree of size first (RFC 9162 §2.1.4)' })
  @ApiQuery({ name: 'first', required: true, schema: { type: 'integer', minimum: 0 } })
  @ApiQuery({ name: 'second', required: true, schema: { type: 'integer', minimum: 0 } })
  async consistencyProof(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Query() query: Record<string, unknown>,
  ): Promise<ConsistencyProofView> {
    const { first, second } = parseQuery(consistencyQuery, query);
    const response = await this.audit.getConsistencyProof(
      { first: BigInt(first), second: BigInt(second) },
      { metadata: upstreamMetadata(request, principal) },
    );
    return consistencyProofViewOf(response);
  }

  @Get('keys')
  @RequirePermission('audit:read')
  @ApiOperation({ summary: 'Every public key that ever signed a tree head, retired ones included' })
  async signingKeys(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
  ): Promise<{ keys: SigningKeyView[] }> {
    const response = await this.audit.listSigningKeys({}, { metadata: upstreamMetadata(request, principal) });
    return { keys: response.keys.map(signingKeyViewOf) };
  }

  @Get('export')
  @RequirePermission('audit:read')
  @ApiOperation({
    summary: 'Entries [start, end) of a signed tree as NDJSON, for offline verification',
    description:
      'The first line is {"type":"header"} with the tree head, left_proof and right_proof (perfect subtrees covering ' +
      '[0, start) and [end, tree_size)) and the leaf hashes of pruned entries; then one {"type":"entry"} line per entry.',
  })
  @ApiProduces(NDJSON_CONTENT_TYPE)
  @ApiOkResponse({ description: 'newline-delimited JSON, streamed' })
  @ApiQuery({ name: 'start', required: false, description: 'first leaf index, 0 when absent', schema: { type: 'integer', minimum: 0 } })
  @ApiQuery({ name: 'end', required: false, description: 'leaf index after the last; tree_size when absent', schema: { type: 'integer', minimum: 1 } })
  @ApiQuery(treeSizeParameter)
  async exportSegment(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Query() query: Record<string, unknown>,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const range = parseQuery(exportQuery, query);
    const segment = this.audit.exportLogSegment(
      { start: BigInt(range.start ?? 0), end: BigInt(range.end ?? 0), treeSize: BigInt(range.tree_size ?? 0) },
      { metadata: upstreamMetadata(request, principal) },
    );
    const items = segment[Symbol.asyncIterator]();
    // Until the header has arrived nothing is sent, so an upstream failure still gets the JSON error envelope.
    const first = await items.next();
    if (first.done || first.value.item.case !== 'header') {
      await items.return?.();
      throw new GatewayException(GatewayErrorCode.Internal, 'internal error');
    }
    const header = segmentHeaderLineOf(first.value.item.value);
    // A failure after this point can only cut the response short: Fastify destroys the connection, so the client sees
    // an incomplete transfer rather than a short segment that looks whole.
    void reply
      .header('content-type', NDJSON_CONTENT_TYPE)
      .header('cache-control', 'no-store')
      .send(Readable.from(ndjsonLines(header, items)));
  }

  @Post('verify')
  @HttpCode(200)
  @RequirePermission('audit:verify')
  @ApiOperation({ summary: 'Rebuild the tree from the stored entries and check it against the stored leaves and signed tree heads' })
  @ApiBody({ schema: jsonSchemaOf(verifyBody), required: false })
  async verify(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Body() body: unknown,
  ): Promise<IntegrityReportView> {
    const { tree_size: treeSize } = verifyBodyPipe.transform(body ?? {});
    const response = await this.audit.verifyIntegrity(
      { treeSize: BigInt(treeSize ?? 0) },
      { metadata: upstreamMetadata(request, principal), timeoutMs: VERIFY_TIMEOUT_MS },
    );
    return integrityReportViewOf(response);
  }

  @Post('hash')
  @HttpCode(200)
  @RequirePermission('audit:read')
  @ApiOperation({ summary: 'The HMAC under which a sensitive detail value is stored, to search the log for a known value' })
  @ApiBody({ schema: jsonSchemaOf(hashBody) })
  async hash(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Body(new ZodBodyPipe(hashBody)) body: z.infer<typeof hashBody>,
  ): Promise<{ hash: string }> {
    const response = await this.audit.hashDetailValue({ value: body.value }, { metadata: upstreamMetadata(request, principal) });
    return { hash: response.hash };
  }

  @Get(':id/proof')
  @RequirePermission('audit:read')
  @ApiOperation({ summary: "Proof that an entry is in a signed tree (RFC 9162 §2.1.3), with the entry's leaf fields" })
  @ApiParam({ name: 'id', description: 'the entry id (a UUID)' })
  @ApiQuery(treeSizeParameter)
  async inclusionProof(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
  ): Promise<InclusionProofView> {
    const entryId = parseEntryId(id);
    const { tree_size: treeSize } = parseQuery(treeSizeQuery, query);
    const response = await this.audit.getInclusionProof(
      { entryId, treeSize: BigInt(treeSize ?? 0) },
      { metadata: upstreamMetadata(request, principal) },
    );
    return inclusionProofViewOf(response);
  }
}

/** The header line, then one line per entry; returning early (the client went away) cancels the upstream stream. */
async function* ndjsonLines(
  header: SegmentHeaderLine,
  items: AsyncIterator<ExportLogSegmentResponse>,
): AsyncGenerator<string> {
  let finished = false;
  try {
    yield `${JSON.stringify(header)}\n`;
    for (let next = await items.next(); !next.done; next = await items.next()) {
      const item = next.value.item;
      if (item.case === 'entry') yield `${JSON.stringify(segmentEntryLineOf(item.value))}\n`;
    }
    finished = true;
  } finally {
    if (!finished) await items.return?.();
  }
}
