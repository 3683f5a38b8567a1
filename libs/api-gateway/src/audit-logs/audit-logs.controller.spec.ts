import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { status } from '@grpc/grpc-js';
import { Module, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import {
  AuditLogEntrySchema,
  ExportLogSegmentResponseSchema,
  GetComplianceReportResponseSchema,
  GetConsistencyProofResponseSchema,
  GetInclusionProofResponseSchema,
  GetSignedTreeHeadResponseSchema,
  HashDetailValueResponseSchema,
  ListSigningKeysResponseSchema,
  QueryAuditLogResponseSchema,
  SignedTreeHeadSchema,
  VerifyIntegrityResponseSchema,
  type ExportLogSegmentResponse,
} from '@llmops/contracts';
import type { Principal } from '@llmops/platform-auth';
import { GrpcCallError } from '@llmops/platform-grpc';
import { createLogger } from '@llmops/platform-observability';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { AuthenticatedRequest } from '../access/access-policy.decorator.js';
import { ErrorEnvelopeFilter } from '../errors/error-envelope.filter.js';
import { listenOnLoopback, answerOf, type HttpAnswer } from '../testing/route-testing.js';
import { AUDIT_CLIENT, type AuditClient } from '../upstreams/upstream-clients.js';
import { AuditLogsController } from './audit-logs.controller.js';
import { ComplianceController } from './compliance.controller.js';

const ENTRY_ID = '0b7d3c1e-1111-4222-8333-444455556666';
const hash = (byte: number): Uint8Array => new Uint8Array(32).fill(byte);
const b64 = (byte: number): string => Buffer.alloc(32, byte).toString('base64');
const head = create(SignedTreeHeadSchema, { treeSize: 3n, rootHash: hash(1), timestamp: 1_700_000_000_123n, keyId: 'ab', signature: hash(2) });
const entry = (sequence: number) =>
  create(AuditLogEntrySchema, {
    id: ENTRY_ID,
    sequence: BigInt(sequence),
    eventType: 'config.updated',
    actorType: 'user',
    actorId: 'u-1',
    action: 'update',
    source: 'config-manager',
    details: { email: 'hmac-sha256:00' },
    createdAt: timestampFromDate(new Date('2025-01-02T03:04:05.006Z')),
  });

/** What the fake upstream was asked, and what it answers next. */
const upstream = {
  calls: [] as Array<{ method: string; request: unknown }>,
  exportItems: [] as Array<ExportLogSegmentResponse | Error>,
  failWith: undefined as Error | undefined,
};

async function answer<T>(method: string, request: unknown, response: T): Promise<T> {
  upstream.calls.push({ method, request });
  if (upstream.failWith) throw upstream.failWith;
  return response;
}

const fakeAudit = {
  queryAuditLog: (request: unknown) => {
    upstream.calls.push({ method: 'queryAuditLog', request });
    return (async function* () {
      yield create(QueryAuditLogResponseSchema, { entry: entry(0), cursor: '' });
      yield create(QueryAuditLogResponseSchema, { entry: entry(1), cursor: 'next' });
    })();
  },
  getSignedTreeHead: (request: unknown) => answer('getSignedTreeHead', request, create(GetSignedTreeHeadResponseSchema, { treeHead: head })),
  getInclusionProof: (request: unknown) =>
    answer(
      'getInclusionProof',
      request,
      create(GetInclusionProofResponseSchema, { leafIndex: 1n, treeSize: 3n, leafHash: hash(3), auditPath: [hash(4)], entry: entry(1) }),
    ),
  getConsistencyProof: (request: unknown) =>
    answer('getConsistencyProof', request, create(GetConsistencyProofResponseSchema, { first: 1n, second: 3n, proof: [hash(5)] })),
  listSigningKeys: (request: unknown) =>
    answer(
      'listSigningKeys',
      request,
      create(ListSigningKeysResponseSchema, {
        keys: [{ keyId: 'ab', algorithm: 'Ed25519', publicKeyPem: 'PEM', activatedAt: timestampFromDate(new Date('2025-01-01T00:00:00Z')) }],
      }),
    ),
  verifyIntegrity: (request: unknown) =>
    answer('verifyIntegrity', request, create(VerifyIntegrityResponseSchema, { valid: true, treeSize: 3n, rootHash: hash(1), treeHeadsChecked: 1n })),
  hashDetailValue: (request: unknown) => answer('hashDetailValue', request, create(HashDetailValueResponseSchema, { hash: 'hmac-sha256:ff' })),
  getComplianceReport: (request: unknown) =>
    answer(
      'getComplianceReport',
      request,
      create(GetComplianceReportResponseSchema, {
        from: timestampFromDate(new Date('2025-01-01T00:00:00Z')),
        to: timestampFromDate(new Date('2025-02-01T00:00:00Z')),
        totalEvents: 3n,
        sections: [{ name: 'secret_access', total: 1n, byEventType: [{ key: 'secret.read', count: 1n }], topActors: [{ key: '-x', count: 1n }] }],
      }),
    ),
  exportLogSegment: (request: unknown) => {
    upstream.calls.push({ method: 'exportLogSegment', request });
    const items = upstream.exportItems;
    return (async function* () {
      for (const item of items) {
        if (item instanceof Error) throw item;
        yield item;
      }
    })();
  },
};

const principal: Principal = { id: 'u-admin', type: 'user', roles: ['global-admin'] };
/** Stands in for AccessGuard, whose permission checks have their own tests. */
const authenticated: CanActivate = {
  canActivate: (context: ExecutionContext) => {
    context.switchToHttp().getRequest<AuthenticatedRequest>().principal = principal;
    return true;
  },
};

@Module({
  controllers: [AuditLogsController, ComplianceController],
  providers: [
    { provide: AUDIT_CLIENT, useValue: fakeAudit as unknown as AuditClient },
    { provide: APP_GUARD, useValue: authenticated },
    { provide: APP_FILTER, useValue: new ErrorEnvelopeFilter(createLogger({ service: 'test', version: 'test', level: 'silent' })) },
  ],
})
class AuditRoutesModule {}

describe(AuditLogsController.name, () => {
  let app: NestFastifyApplication;
  let baseUrl: string;

  beforeAll(async () => {
    ({ app, baseUrl } = await listenOnLoopback(AuditRoutesModule));
  });

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(() => {
    upstream.calls = [];
    upstream.exportItems = [];
    upstream.failWith = undefined;
  });

  const get = async (url: string, headers: Record<string, string> = {}): Promise<HttpAnswer> => answerOf(await fetch(baseUrl + url, { headers }));
  const post = async (url: string, body?: unknown): Promise<HttpAnswer> =>
    answerOf(
      await fetch(baseUrl + url, {
        method: 'POST',
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );
  const lastCall = () => upstream.calls.at(-1);

  it('lists entries with leaf_index and correlation_id, passing details.<field> filters upstream', async () => {
    const response = await get('/api/v1/audit_logs?details.email=a%40b.c&event_type=config.updated');
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.next_cursor).toBe('next');
    expect(body.data[1]).toMatchObject({ id: ENTRY_ID, leaf_index: 1, correlation_id: null, created_at: '2025-01-02T03:04:05.006Z' });
    expect(lastCall()?.request).toMatchObject({ eventType: 'config.updated', details: { email: 'a@b.c' } });
  });

  it('answers a bad detail filter with 400 naming the parameter', async () => {
    const response = await get('/api/v1/audit_logs?details.a%20b=x');
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringMatching(/^details\.a b: /) });
  });

  it('serves the static routes rather than reading them as an entry id', async () => {
    expect((await get('/api/v1/audit_logs/sth')).json()).toEqual({
      tree_head: { tree_size: 3, root_hash: b64(1), timestamp: 1_700_000_000_123, key_id: 'ab', signature: b64(2) },
    });
    expect((await get('/api/v1/audit_logs/keys')).json()).toEqual({
      keys: [{ key_id: 'ab', algorithm: 'Ed25519', public_key_pem: 'PEM', activated_at: '2025-01-01T00:00:00.000Z', retired_at: null }],
    });
    expect((await get('/api/v1/audit_logs/consistency?first=1&second=3')).json()).toEqual({ first: 1, second: 3, proof: [b64(5)] });
    expect(lastCall()?.request).toEqual({ first: 1n, second: 3n });
  });

  it('asks for the newest tree head when tree_size is absent, and names a bad tree_size', async () => {
    await get('/api/v1/audit_logs/sth');
    expect(lastCall()?.request).toEqual({ treeSize: 0n });
    const response = await get('/api/v1/audit_logs/sth?tree_size=abc');
    expect(response.statusCode).toBe(400);
    expect(response.json().error.message).toBe('tree_size: must be a positive integer');
  });

  it('proves inclusion of an entry, and names a bad id', async () => {
    const response = await get(`/api/v1/audit_logs/${ENTRY_ID}/proof?tree_size=3`);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ leaf_index: 1, tree_size: 3, leaf_hash: b64(3), audit_path: [b64(4)], tree_head: null });
    expect(response.json().entry).toMatchObject({ id: ENTRY_ID, leaf_index: 1 });
    expect(lastCall()?.request).toEqual({ entryId: ENTRY_ID, treeSize: 3n });
    const bad = await get('/api/v1/audit_logs/not-a-uuid/proof');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toBe('id: must be a UUID');
  });

  it('maps an upstream gRPC failure through the error envelope', async () => {
    upstream.failWith = new GrpcCallError(status.NOT_FOUND, 'no tree head was signed at tree size 9');
    const response = await get('/api/v1/audit_logs/sth?tree_size=9');
    expect(response.statusCode).toBe(404);
    expect(response.json().error).toMatchObject({ code: 'NOT_FOUND', message: 'no tree head was signed at tree size 9' });
  });

  it('streams an export as NDJSON: the header line, then one line per entry', async () => {
    upstream.exportItems = [
      create(ExportLogSegmentResponseSchema, {
        item: { case: 'header', value: { treeHead: head, start: 0n, end: 2n, rightProof: [hash(6)], prunedLeaves: { '1': hash(7) } } },
      }),
      create(ExportLogSegmentResponseSchema, { item: { case: 'entry', value: entry(0) } }),
    ];
    const response = await get('/api/v1/audit_logs/export?start=0&end=2&tree_size=3');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/x-ndjson');
    const lines = response.body.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toEqual({
      type: 'header',
      tree_head: { tree_size: 3, root_hash: b64(1), timestamp: 1_700_000_000_123, key_id: 'ab', signature: b64(2) },
      start: 0,
      end: 2,
      left_proof: [],
      right_proof: [b64(6)],
      pruned_leaves: { '1': b64(7) },
    });
    expect(lines[1]).toMatchObject({ type: 'entry', id: ENTRY_ID, leaf_index: 0 });
    expect(lastCall()?.request).toEqual({ start: 0n, end: 2n, treeSize: 3n });
  });

  it('answers an export that fails before its header with the JSON error envelope', async () => {
    upstream.exportItems = [new GrpcCallError(status.INVALID_ARGUMENT, 'the segment [0, 9) is not inside the tree of size 3')];
    const response = await get('/api/v1/audit_logs/export?end=9');
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json().error.message).toBe('the segment [0, 9) is not inside the tree of size 3');
  });

  it('cuts an export short when the upstream fails after the header', async () => {
    upstream.exportItems = [
      create(ExportLogSegmentResponseSchema, { item: { case: 'header', value: { treeHead: head, start: 0n, end: 3n } } }),
      create(ExportLogSegmentResponseSchema, { item: { case: 'entry', value: entry(0) } }),
      new GrpcCallError(status.UNAVAILABLE, 'gone'),
    ];
    await expect(get('/api/v1/audit_logs/export')).rejects.toThrow();
  });

  it('verifies the whole log when the body is absent, and takes tree_size from the body', async () => {
    const response = await post('/api/v1/audit_logs/verify');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ valid: true, tree_size: 3, root_hash: b64(1), tree_heads_checked: 1, entries_pruned: 0, violations: [] });
    expect(lastCall()?.request).toEqual({ treeSize: 0n });
    await post('/api/v1/audit_logs/verify', { tree_size: 2 });
    expect(lastCall()?.request).toEqual({ treeSize: 2n });
    const bad = await post('/api/v1/audit_logs/verify', { tree_size: -1 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/^tree_size: /);
  });

  it('hashes a detail value', async () => {
    const response = await post('/api/v1/audit_logs/hash', { value: 'a@b.c' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ hash: 'hmac-sha256:ff' });
    const bad = await post('/api/v1/audit_logs/hash', {});
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toBe('value: is required');
  });

  it('serves the compliance report as JSON by default and as CSV on request', async () => {
    const range = 'from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z';
    const json = await get(`/api/v1/compliance/report?${range}`);
    expect(json.statusCode).toBe(200);
    expect(json.json()).toMatchObject({ from: '2025-01-01T00:00:00.000Z', total_events: 3, tree_head: null });
    for (const csv of [await get(`/api/v1/compliance/report?${range}&format=csv`), await get(`/api/v1/compliance/report?${range}`, { accept: 'text/csv' })]) {
      expect(csv.statusCode).toBe(200);
      expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(csv.headers['content-disposition']).toBe('attachment; filename="compliance-20250101T000000Z-20250201T000000Z.csv"');
      expect(csv.body).toBe(
        'section,kind,key,count\r\nall,total,,3\r\nsecret_access,total,,1\r\nsecret_access,event_type,secret.read,1\r\nsecret_access,actor,\'-x,1\r\n',
      );
    }
    const missing = await get('/api/v1/compliance/report?from=2025-01-01T00:00:00Z');
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.message).toBe('to: is required');
  });

  it('documents the routes in a valid OpenAPI 3 document', async () => {
    const document = SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('test').setVersion('1').build());
    const validation = await new Validator().validate(document as never);
    expect(validation.errors ?? []).toEqual([]);
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/audit_logs',
        '/api/v1/audit_logs/sth',
        '/api/v1/audit_logs/consistency',
        '/api/v1/audit_logs/keys',
        '/api/v1/audit_logs/export',
        '/api/v1/audit_logs/verify',
        '/api/v1/audit_logs/hash',
        '/api/v1/audit_logs/{id}/proof',
        '/api/v1/compliance/report',
      ]),
    );
  });
});
