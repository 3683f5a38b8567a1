import { describe, expect, it } from '@jest/globals';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  AuditLogEntrySchema,
  GetComplianceReportResponseSchema,
  GetInclusionProofResponseSchema,
  LogSegmentHeaderSchema,
  SignedTreeHeadSchema,
  SigningKeySchema,
  VerifyIntegrityResponseSchema,
} from '@llmops/contracts';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';
import {
  auditLogViewOf,
  base64Of,
  complianceReportViewOf,
  inclusionProofViewOf,
  integrityReportViewOf,
  segmentEntryLineOf,
  segmentHeaderLineOf,
  signingKeyViewOf,
  treeHeadViewOf,
} from './audit-log-views.js';

const created = new Date('2025-03-04T05:06:07.089Z');
const hash = (byte: number): Uint8Array => new Uint8Array(32).fill(byte);
const b64 = (byte: number): string => Buffer.alloc(32, byte).toString('base64');

const fullEntry = create(AuditLogEntrySchema, {
  id: '0b7d3c1e-1111-4222-8333-444455556666',
  sequence: 41n,
  eventType: 'config.updated',
  actorId: 'u-1',
  actorType: 'user',
  resourceType: 'configs',
  resourceId: 'acme/chatbot/model',
  action: 'update',
  details: { version: 3, nested: { email: 'hmac-sha256:ab' }, list: [1, 'two', null], flag: true },
  ipAddress: '10.0.0.1',
  userAgent: 'cli/1.0',
  source: 'config-manager',
  correlationId: 'req-9',
  createdAt: timestampFromDate(created),
});

const signedHead = create(SignedTreeHeadSchema, {
  treeSize: 42n,
  rootHash: hash(1),
  timestamp: 1_741_064_767_089n,
  keyId: 'ab'.repeat(32),
  signature: new Uint8Array(64).fill(2),
});

describe('audit log views', () => {
  it('maps an entry to the leaf fields in order, with its leaf index', () => {
    const view = auditLogViewOf(fullEntry);
    expect(Object.keys(view)).toEqual([
      'id',
      'leaf_index',
      'event_type',
      'actor_id',
      'actor_type',
      'resource_type',
      'resource_id',
      'action',
      'details',
      'ip_address',
      'user_agent',
      'source',
      'correlation_id',
      'created_at',
    ]);
    expect(view).toEqual({
      id: '0b7d3c1e-1111-4222-8333-444455556666',
      leaf_index: 41,
      event_type: 'config.updated',
      actor_id: 'u-1',
      actor_type: 'user',
      resource_type: 'configs',
      resource_id: 'acme/chatbot/model',
      action: 'update',
      details: { version: 3, nested: { email: 'hmac-sha256:ab' }, list: [1, 'two', null], flag: true },
      ip_address: '10.0.0.1',
      user_agent: 'cli/1.0',
      source: 'config-manager',
      correlation_id: 'req-9',
      created_at: '2025-03-04T05:06:07.089Z',
    });
  });

  it('turns the empty strings of nullable columns into null and missing details into {}', () => {
    const view = auditLogViewOf(
      create(AuditLogEntrySchema, {
        id: 'e',
        sequence: 0n,
        eventType: 'auth.login_failed',
        actorType: 'anonymous',
        action: 'login',
        source: 'api-gateway',
        createdAt: timestampFromDate(created),
      }),
    );
    expect(view).toMatchObject({
      leaf_index: 0,
      actor_id: null,
      resource_type: null,
      resource_id: null,
      details: {},
      ip_address: null,
      user_agent: null,
      correlation_id: null,
    });
  });

  it('gives a row without a leaf (sequence -1) a null leaf index', () => {
    expect(auditLogViewOf(create(AuditLogEntrySchema, { ...fullEntry, sequence: -1n })).leaf_index).toBeNull();
  });

  it('keeps created_at at millisecond precision', () => {
    const view = auditLogViewOf(create(AuditLogEntrySchema, { createdAt: { seconds: 1n, nanos: 999_999_999 } }));
    expect(view.created_at).toBe('1970-01-01T00:00:01.999Z');
  });

  it('encodes tree heads as Certificate Transparency does: base64 hashes, millisecond timestamp, hex key id', () => {
    expect(treeHeadViewOf(signedHead)).toEqual({
      tree_size: 42,
      root_hash: b64(1),
      timestamp: 1_741_064_767_089,
      key_id: 'ab'.repeat(32),
      signature: Buffer.alloc(64, 2).toString('base64'),
    });
  });

  it('encodes only the bytes of a view into a larger buffer', () => {
    const backing = new Uint8Array([9, 9, 0xfb, 0xff, 9]);
    expect(base64Of(backing.subarray(2, 4))).toBe('+/8=');
  });

  it('maps an inclusion proof, with or without a tree head signed at its size', () => {
    const proof = create(GetInclusionProofResponseSchema, {
      leafIndex: 41n,
      treeSize: 42n,
      leafHash: hash(3),
      auditPath: [hash(4), hash(5)],
      entry: fullEntry,
      treeHead: signedHead,
    });
    const view = inclusionProofViewOf(proof);
    expect(view).toMatchObject({ leaf_index: 41, tree_size: 42, leaf_hash: b64(3), audit_path: [b64(4), b64(5)] });
    expect(view.entry.id).toBe(fullEntry.id);
    expect(view.tree_head?.tree_size).toBe(42);
    expect(inclusionProofViewOf(create(GetInclusionProofResponseSchema, { ...proof, treeHead: undefined })).tree_head).toBeNull();
  });

  it('treats an inclusion proof without its entry as an upstream fault', () => {
    const error = (() => {
      try {
        inclusionProofViewOf(create(GetInclusionProofResponseSchema, { leafIndex: 1n, treeSize: 2n }));
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(GatewayException);
    expect((error as GatewayException).code).toBe(GatewayErrorCode.Internal);
  });

  it('maps signing keys, the active one with a null retired_at', () => {
    const active = create(SigningKeySchema, {
      keyId: 'k1',
      algorithm: 'Ed25519',
      publicKeyPem: '-----BEGIN PUBLIC KEY-----\n…',
      activatedAt: timestampFromDate(created),
    });
    expect(signingKeyViewOf(active)).toEqual({
      key_id: 'k1',
      algorithm: 'Ed25519',
      public_key_pem: '-----BEGIN PUBLIC KEY-----\n…',
      activated_at: '2025-03-04T05:06:07.089Z',
      retired_at: null,
    });
    const retired = create(SigningKeySchema, { ...active, retiredAt: timestampFromDate(new Date('2025-04-01T00:00:00Z')) });
    expect(signingKeyViewOf(retired).retired_at).toBe('2025-04-01T00:00:00.000Z');
  });

  it('maps an integrity report; a violation without a row has a null entry_id', () => {
    const report = integrityReportViewOf(
      create(VerifyIntegrityResponseSchema, {
        valid: false,
        treeSize: 10n,
        rootHash: hash(6),
        treeHeadsChecked: 3n,
        entriesPruned: 2n,
        violations: [
          { index: 4n, kind: 'modified', detail: 'leaf differs', entryId: 'e4' },
          { index: -1n, kind: 'inserted', detail: 'row without a leaf', entryId: '' },
        ],
      }),
    );
    expect(report).toEqual({
      valid: false,
      tree_size: 10,
      root_hash: b64(6),
      tree_heads_checked: 3,
      entries_pruned: 2,
      violations: [
        { index: 4, kind: 'modified', detail: 'leaf differs', entry_id: 'e4' },
        { index: -1, kind: 'inserted', detail: 'row without a leaf', entry_id: null },
      ],
    });
  });

  it('maps an export header, pruned leaves by index in order, and entry lines', () => {
    const header = segmentHeaderLineOf(
      create(LogSegmentHeaderSchema, {
        treeHead: signedHead,
        start: 8n,
        end: 20n,
        leftProof: [hash(7)],
        rightProof: [hash(8), hash(9)],
        prunedLeaves: { '12': hash(10), '9': hash(11) },
      }),
    );
    expect(header).toEqual({
      type: 'header',
      tree_head: treeHeadViewOf(signedHead),
      start: 8,
      end: 20,
      left_proof: [b64(7)],
      right_proof: [b64(8), b64(9)],
      pruned_leaves: { '9': b64(11), '12': b64(10) },
    });
    expect(Object.keys(header.pruned_leaves)).toEqual(['9', '12']);
    const line = segmentEntryLineOf(fullEntry);
    expect(Object.keys(line)[0]).toBe('type');
    expect(line).toEqual({ type: 'entry', ...auditLogViewOf(fullEntry) });
  });

  it('maps a compliance report with and without a tree head', () => {
    const response = create(GetComplianceReportResponseSchema, {
      from: timestampFromDate(new Date('2025-01-01T00:00:00Z')),
      to: timestampFromDate(new Date('2025-02-01T00:00:00Z')),
      totalEvents: 120n,
      sections: [
        {
          name: 'authentication_failures',
          total: 7n,
          byEventType: [{ key: 'auth.login_failed', count: 7n }],
          topActors: [{ key: '(anonymous)', count: 7n }],
        },
      ],
      treeHead: signedHead,
    });
    expect(complianceReportViewOf(response)).toEqual({
      from: '2025-01-01T00:00:00.000Z',
      to: '2025-02-01T00:00:00.000Z',
      total_events: 120,
      sections: [
        {
          name: 'authentication_failures',
          total: 7,
          by_event_type: [{ key: 'auth.login_failed', count: 7 }],
          top_actors: [{ key: '(anonymous)', count: 7 }],
        },
      ],
      tree_head: treeHeadViewOf(signedHead),
    });
    expect(complianceReportViewOf(create(GetComplianceReportResponseSchema, { ...response, treeHead: undefined })).tree_head).toBeNull();
  });
});
