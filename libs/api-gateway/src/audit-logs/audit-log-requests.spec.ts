import { describe, expect, it } from '@jest/globals';
import { validationMessage } from '../testing/route-testing.js';
import {
  complianceQuery,
  consistencyQuery,
  exportQuery,
  parseAuditLogQuery,
  parseEntryId,
  parseQuery,
  treeSizeQuery,
} from './audit-log-requests.js';

describe('audit log request parsing', () => {
  describe(parseAuditLogQuery.name, () => {
    it('separates details.<field> filters from the other filters', () => {
      const filter = parseAuditLogQuery({ event_type: 'auth.login_failed', 'details.email': 'a@b.c', 'details.user.id': 'u-1', limit: '5' });
      expect(filter).toEqual({ event_type: 'auth.login_failed', limit: 5, details: { email: 'a@b.c', 'user.id': 'u-1' } });
    });

    it('has no detail filters by default', () => {
      expect(parseAuditLogQuery(undefined)).toEqual({ details: {} });
    });

    it('keeps a field named __proto__ as a filter', () => {
      const filter = parseAuditLogQuery({ 'details.__proto__': 'x' });
      expect(Object.getOwnPropertyDescriptor(filter.details, '__proto__')?.value).toBe('x');
      expect(Object.getPrototypeOf(filter.details)).toBe(Object.prototype);
    });

    it('names a detail field that is not a field name', () => {
      expect(validationMessage(() => parseAuditLogQuery({ 'details.e mail': 'x' }))).toMatch(/^details\.e mail: a detail field name is 1 to 64/);
      expect(validationMessage(() => parseAuditLogQuery({ 'details.': 'x' }))).toMatch(/^details\.: /);
      expect(validationMessage(() => parseAuditLogQuery({ [`details.${'f'.repeat(65)}`]: 'x' }))).toMatch(/^details\.f+: a detail field name/);
    });

    it('refuses a detail filter given twice and a bare details parameter', () => {
      expect(validationMessage(() => parseAuditLogQuery({ 'details.email': ['a', 'b'] }))).toBe('details.email: must be given once');
      expect(validationMessage(() => parseAuditLogQuery({ details: 'email=a' }))).toMatch(/^details: filter on a detail field with details\.<field>=<value>/);
    });

    it('allows ten detail filters and refuses eleven', () => {
      const filters = (n: number): Record<string, string> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`details.f${i}`, 'v']));
      expect(Object.keys(parseAuditLogQuery(filters(10)).details)).toHaveLength(10);
      expect(validationMessage(() => parseAuditLogQuery(filters(11)))).toBe('details: at most 10 detail filters per query');
    });

    it('names unknown and malformed parameters alongside detail problems', () => {
      const text = validationMessage(() => parseAuditLogQuery({ colour: 'red', limit: '0', 'details.a b': 'x' }));
      expect(text).toContain('unknown query parameter(s): colour');
      expect(text).toContain('limit: ');
      expect(text).toContain('details.a b: ');
      expect(validationMessage(() => parseAuditLogQuery({ from: 'yesterday' }))).toMatch(/^from: must be an ISO 8601 date-time/);
      expect(validationMessage(() => parseAuditLogQuery({ from: '0000-01-01T00:00:00Z' }))).toBe('from: must be a date-time from year 0001 on');
    });
  });

  describe('tree_size', () => {
    it('is optional and a positive integer', () => {
      expect(parseQuery(treeSizeQuery, {})).toEqual({});
      expect(parseQuery(treeSizeQuery, { tree_size: '42' })).toEqual({ tree_size: 42 });
      for (const bad of ['0', '-1', '1.5', '1e3', '0x10', '', ' 7', 'abc', '1234567890123456']) {
        expect(validationMessage(() => parseQuery(treeSizeQuery, { tree_size: bad }))).toBe('tree_size: must be a positive integer');
      }
      expect(validationMessage(() => parseQuery(treeSizeQuery, { tree_size: ['1', '2'] }))).toMatch(/^tree_size: /);
      expect(validationMessage(() => parseQuery(treeSizeQuery, { size: '1' }))).toBe('unknown query parameter(s): size');
    });
  });

  describe('consistency', () => {
    it('needs first and second, non-negative, first not past second', () => {
      expect(parseQuery(consistencyQuery, { first: '0', second: '7' })).toEqual({ first: 0, second: 7 });
      expect(validationMessage(() => parseQuery(consistencyQuery, { second: '7' }))).toBe('first: is required');
      expect(validationMessage(() => parseQuery(consistencyQuery, { first: '3' }))).toBe('second: is required');
      expect(validationMessage(() => parseQuery(consistencyQuery, { first: '-1', second: '7' }))).toBe('first: must be a non-negative integer');
      expect(validationMessage(() => parseQuery(consistencyQuery, { first: '8', second: '7' }))).toBe('first: must not exceed second');
    });
  });

  describe('export', () => {
    it('takes an optional range and tree size', () => {
      expect(parseQuery(exportQuery, {})).toEqual({});
      expect(parseQuery(exportQuery, { start: '0', end: '10', tree_size: '12' })).toEqual({ start: 0, end: 10, tree_size: 12 });
      expect(validationMessage(() => parseQuery(exportQuery, { start: '5', end: '5' }))).toBe('end: must be greater than start');
      expect(validationMessage(() => parseQuery(exportQuery, { end: '0' }))).toBe('end: must be a positive integer');
      expect(validationMessage(() => parseQuery(exportQuery, { start: 'x' }))).toBe('start: must be a non-negative integer');
      expect(validationMessage(() => parseQuery(exportQuery, { start: '5', end: 'x' }))).toBe('end: must be a positive integer');
    });
  });

  describe('compliance report', () => {
    it('needs from and to as ISO 8601 date-times, from before to', () => {
      expect(parseQuery(complianceQuery, { from: '2025-01-01T00:00:00Z', to: '2025-02-01T00:00:00+01:00', format: 'csv' })).toEqual({
        from: '2025-01-01T00:00:00Z',
        to: '2025-02-01T00:00:00+01:00',
        format: 'csv',
      });
      expect(validationMessage(() => parseQuery(complianceQuery, { to: '2025-02-01T00:00:00Z' }))).toBe('from: is required');
      expect(validationMessage(() => parseQuery(complianceQuery, { from: '2025-01-01', to: '2025-02-01T00:00:00Z' }))).toMatch(
        /^from: must be an ISO 8601 date-time/,
      );
      expect(validationMessage(() => parseQuery(complianceQuery, { from: '2025-02-01T00:00:00Z', to: '2025-01-01T00:00:00Z' }))).toBe(
        'to: must be after from',
      );
      expect(
        validationMessage(() => parseQuery(complianceQuery, { from: '2025-01-01T00:00:00Z', to: '2025-02-01T00:00:00Z', format: 'xml' })),
      ).toMatch(/^format: /);
    });
  });

  describe(parseEntryId.name, () => {
    it('accepts a UUID and names id otherwise', () => {
      expect(parseEntryId('0B7D3C1E-1111-4222-8333-444455556666')).toBe('0B7D3C1E-1111-4222-8333-444455556666');
      for (const bad of ['sth', 'keys', '1', '', undefined]) expect(validationMessage(() => parseEntryId(bad))).toBe('id: must be a UUID');
    });
  });
});
