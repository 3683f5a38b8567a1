import { describe, expect, it } from '@jest/globals';
import { ZodBodyPipe } from '../access/zod-body.pipe.js';
import { parseQuery } from '../audit-logs/audit-log-requests.js';
import { validationMessage } from '../testing/route-testing.js';
import { createUserBody, listUsersQuery } from './user-requests.js';

const pipe = new ZodBodyPipe(createUserBody);

describe('user requests', () => {
  it('accepts an email, a long enough password and known roles', () => {
    expect(pipe.transform({ email: 'dev@example.com', password: 'twelve chars', roles: ['developer'] })).toEqual({
      email: 'dev@example.com',
      password: 'twelve chars',
      roles: ['developer'],
    });
  });

  it('takes an optional tenant, and names a malformed one', () => {
    expect(pipe.transform({ email: 'dev@example.com', password: 'twelve chars', tenant_id: 'acme-eu.1' })).toMatchObject({ tenant_id: 'acme-eu.1' });
    for (const tenant of ['', 'acme corp', 'acme/eu', 'x'.repeat(257)]) {
      expect(validationMessage(() => pipe.transform({ email: 'dev@example.com', password: 'twelve chars', tenant_id: tenant }))).toBe(
        'tenant_id: must be 1 to 256 letters, digits, _, . or -',
      );
    }
    expect(validationMessage(() => parseQuery(listUsersQuery, { tenant_id: 'acme corp' }))).toBe(
      'tenant_id: must be 1 to 256 letters, digits, _, . or -',
    );
  });

  it('names the field that is wrong', () => {
    expect(validationMessage(() => pipe.transform({ email: 'dev@example.com', password: 'eleven char' }))).toBe(
      'password: must be at least 12 characters',
    );
    expect(validationMessage(() => pipe.transform({ email: 'dev@example.com' }))).toBe('password: is required');
    expect(validationMessage(() => pipe.transform({ email: 'dev', password: 'long enough password' }))).toBe('email: must be an email address');
    expect(validationMessage(() => pipe.transform({ email: 'dev@example.com', password: 'long enough password', roles: ['root'] }))).toMatch(
      /^roles\.0: unknown role "root"; known roles are /,
    );
    expect(validationMessage(() => pipe.transform({ email: 'dev@example.com', password: 'long enough password', admin: true }))).toBe(
      'unknown field(s): admin',
    );
  });

  it('pages with a limit and a cursor', () => {
    expect(parseQuery(listUsersQuery, { limit: '10', cursor: '0b7e1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b', tenant_id: 'acme' })).toEqual({
      limit: 10,
      cursor: '0b7e1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b',
      tenant_id: 'acme',
    });
    expect(validationMessage(() => parseQuery(listUsersQuery, { limit: '0' }))).toBe('limit: must be an integer from 1 to 1000');
    expect(validationMessage(() => parseQuery(listUsersQuery, { cursor: 'x' }))).toBe('cursor: must be the next_cursor of the previous page');
    expect(validationMessage(() => parseQuery(listUsersQuery, { sort: 'email' }))).toBe('unknown query parameter(s): sort');
  });
});
