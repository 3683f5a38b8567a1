import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AUDIT_SCHEMA } from '../migrations/1763800000000-CreateAuditLogs.js';
import { auditEvent as event, openAuditLogFixture, type AuditLogFixture } from '../testing/audit-log-fixture.js';
import type { AuditLogQuery } from './audit-log-query.js';
import { AuditLogRecorder } from './audit-log-recorder.js';
import { ensureMonthlyPartitions } from './audit-partitions.js';
import { AuditException, AuditExceptionCode } from './exceptions/audit.exception.js';

describe(AuditLogRecorder.name, () => {
  let fixture: AuditLogFixture;
  let recorder: AuditLogRecorder;
  let query: AuditLogQuery;

  beforeAll(async () => {
    fixture = await openAuditLogFixture();
    ({ recorder, query } = fixture);
  });

  afterAll(async () => {
    await fixture?.close();
  });

  it('stores a redelivered event once', async () => {
    const duplicate = event({ subject: 'configs/dup/key@base' });
    await recorder.record(duplicate);
    await recorder.record(duplicate);
    const page = await query.page({ resourceId: 'dup/key@base' });
    expect(page.entries).toHaveLength(1);
    expect(page.entries[0]).toMatchObject({
      id: duplicate.id,
      eventType: 'config.updated',
      action: 'updated',
      resourceType: 'configs',
      actorId: 'user-1',
      actorType: 'user',
      ipAddress: '10.0.0.7',
      userAgent: 'curl/8',
      source: 'config-manager',
      details: { version: 3 },
    });
  });

  it('pages newest first with a stable cursor and filters by actor and type', async () => {
    const base = Date.UTC(2026, 0, 15, 12);
    for (let i = 0; i < 7; i++) {
      await recorder.record(event({ subject: `configs/page/k${i}@base`, time: new Date(base + i * 1000), actorId: 'pager' }));
    }
    await recorder.record(event({ subject: 'configs/page/other@base', time: new Date(base), actorId: 'someone-else', type: 'config.deleted' }));
    const first = await query.page({ actorId: 'pager', limit: 3 });
    const second = await query.page({ actorId: 'pager', limit: 3, cursor: first.nextCursor });
    const third = await query.page({ actorId: 'pager', limit: 3, cursor: second.nextCursor });
    const keys = [...first.entries, ...second.entries, ...third.entries].map((e) => e.resourceId);
    expect(keys).toEqual(['page/k6@base', 'page/k5@base', 'page/k4@base', 'page/k3@base', 'page/k2@base', 'page/k1@base', 'page/k0@base']);
    expect(third.nextCursor).toBeUndefined();
    const deleted = await query.page({ eventType: 'config.deleted' });
    expect(deleted.entries.map((e) => e.actorId)).toEqual(['someone-else']);
    const window = await query.page({ actorId: 'pager', from: new Date(base + 2000), to: new Date(base + 4000) });
    expect(window.entries.map((e) => e.resourceId)).toEqual(['page/k3@base', 'page/k2@base']);
  });

  it('keeps entries in monthly partitions, moving rows out of the default partition when one is created', async () => {
    const future = new Date(Date.UTC(2031, 4, 10));
    const stored = event({ time: future, subject: 'configs/future/k@base' });
    await recorder.record(stored);
    const created = await ensureMonthlyPartitions(fixture.database.dataSource, future, 0);
    expect(created).toEqual(['audit_logs_2031_05']);
    const inPartition = await fixture.database.dataSource.query(`SELECT id FROM ${AUDIT_SCHEMA}.audit_logs_2031_05`);
    expect(inPartition).toEqual([{ id: stored.id }]);
    expect(await ensureMonthlyPartitions(fixture.database.dataSource, future, 0)).toEqual([]);
  });

  it('refuses a cursor it did not issue and a page size above the limit', async () => {
    await expect(query.page({ cursor: 'not-a-cursor' })).rejects.toMatchObject({ code: AuditExceptionCode.InvalidQuery });
    await expect(query.page({ limit: 10_000 })).rejects.toBeInstanceOf(AuditException);
  });
});
