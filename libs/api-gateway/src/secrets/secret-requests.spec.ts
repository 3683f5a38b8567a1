import { describe, expect, it } from '@jest/globals';
import { SecretType } from '@llmops/contracts';
import type { FastifyRequest } from 'fastify';
import { ZodBodyPipe } from '../access/zod-body.pipe.js';
import { validationMessage } from '../testing/route-testing.js';
import {
  parseDeleteQuery,
  parseReadQuery,
  readTargetOf,
  secretTypeNameOf,
  secretTypeOf,
  secretValueOf,
  setSecretBody,
  versionsBody,
  writePermissionOf,
  writeTargetOf,
} from './secret-requests.js';

const requestFor = (wildcard: string): FastifyRequest => ({ params: { '*': wildcard } }) as unknown as FastifyRequest;

describe('secret request parsing', () => {
  describe(readTargetOf.name, () => {
    it('lists a folder named with a trailing slash, or the top level', () => {
      expect(readTargetOf('acme/payments/')).toEqual({ kind: 'list', folder: 'acme/payments' });
      expect(readTargetOf('')).toEqual({ kind: 'list', folder: '' });
      expect(readTargetOf(undefined)).toEqual({ kind: 'list', folder: '' });
    });

    it('reads a secret, or its versions when the path ends in versions', () => {
      expect(readTargetOf('acme/DB_PASSWORD')).toEqual({ kind: 'secret', path: 'acme/DB_PASSWORD', action: undefined });
      expect(readTargetOf('acme/db/versions')).toEqual({ kind: 'secret', path: 'acme/db', action: 'versions' });
      expect(readTargetOf('acme/versions.old')).toEqual({ kind: 'secret', path: 'acme/versions.old', action: undefined });
    });

    it('needs a secret path before the action', () => {
      expect(validationMessage(() => readTargetOf('versions'))).toBe('path must be <secret path>/versions, e.g. acme/db/versions');
    });
  });

  describe(writeTargetOf.name, () => {
    it('takes rotate, undelete and destroy off the end of the path', () => {
      expect(writeTargetOf('acme/db/rotate')).toEqual({ path: 'acme/db', action: 'rotate' });
      expect(writeTargetOf('acme/db/undelete')).toEqual({ path: 'acme/db', action: 'undelete' });
      expect(writeTargetOf('acme/db/destroy')).toEqual({ path: 'acme/db', action: 'destroy' });
      expect(writeTargetOf('acme/rotate/db')).toEqual({ path: 'acme/rotate/db', action: undefined });
    });

    it('refuses to write a secret whose path ends in a reserved name', () => {
      expect(validationMessage(() => writeTargetOf('acme/versions'))).toMatch(/^a secret path cannot end in "versions": versions, rotate, undelete, destroy are reserved/);
      expect(validationMessage(() => writeTargetOf('rotate'))).toBe('path must be <secret path>/rotate, e.g. acme/db/rotate');
    });
  });

  it(`${writePermissionOf.name} asks secrets:rotate for a rotation and secrets:write otherwise`, () => {
    expect(writePermissionOf(requestFor('acme/db/rotate'))).toBe('secrets:rotate');
    expect(writePermissionOf(requestFor('acme/db/destroy'))).toBe('secrets:write');
    expect(writePermissionOf(requestFor('acme/db'))).toBe('secrets:write');
  });

  describe(parseReadQuery.name, () => {
    it('reads reveal and version, leaving other parameters alone', () => {
      expect(parseReadQuery({ env: 'dev' })).toEqual({ reveal: false, version: undefined });
      expect(parseReadQuery({ reveal: 'true', version: '3' })).toEqual({ reveal: true, version: 3 });
      expect(parseReadQuery({ reveal: '0' })).toEqual({ reveal: false, version: undefined });
    });

    it('names a bad parameter', () => {
      expect(validationMessage(() => parseReadQuery({ reveal: 'yes' }))).toBe('reveal must be true or false');
      expect(validationMessage(() => parseReadQuery({ version: '0' }))).toBe('version must be an integer from 1 to 2147483647');
      expect(validationMessage(() => parseReadQuery({ version: '1e3' }))).toBe('version must be an integer from 1 to 2147483647');
    });
  });

  describe(parseDeleteQuery.name, () => {
    it('reads the versions to soft-delete, or purge', () => {
      expect(parseDeleteQuery({ env: 'dev' })).toEqual({ purge: false, versions: undefined });
      expect(parseDeleteQuery({ versions: '1,3' })).toEqual({ purge: false, versions: [1, 3] });
      expect(parseDeleteQuery({ purge: 'true' })).toEqual({ purge: true, versions: undefined });
    });

    it('refuses malformed versions, and versions with purge', () => {
      expect(validationMessage(() => parseDeleteQuery({ versions: '1,,2' }))).toMatch(/^versions must be a comma-separated list/);
      expect(validationMessage(() => parseDeleteQuery({ versions: '0' }))).toBe('versions must be integers from 1 to 2147483647');
      expect(validationMessage(() => parseDeleteQuery({ purge: 'true', versions: '1' }))).toMatch(/^purge=true erases every version/);
    });
  });

  describe('set body', () => {
    const pipe = new ZodBodyPipe(setSecretBody);

    it('takes a string value, or a JSON object for a structured type, stored as its JSON text', () => {
      const body = pipe.transform({ type: 'database_credentials', value: { username: 'app', password: 'p' }, expected_version: 0, max_versions: 5 });
      expect(secretTypeOf(body.type)).toBe(SecretType.DATABASE_CREDENTIALS);
      expect(secretValueOf(body.value)).toBe('{"username":"app","password":"p"}');
      expect(secretValueOf(pipe.transform({ value: 'sk-123' }).value)).toBe('sk-123');
    });

    it('leaves the type to the existing secret when none is given', () => {
      expect(secretTypeOf(undefined)).toBe(SecretType.UNSPECIFIED);
      expect(secretTypeNameOf(SecretType.TLS_CERTIFICATE)).toBe('tls_certificate');
    });

    it('names each bad or unknown field', () => {
      expect(validationMessage(() => pipe.transform({ type: 'password', value: 'x' }))).toMatch(/^type: must be one of generic, api_key, /);
      expect(validationMessage(() => pipe.transform({ type: 'generic' }))).toBe('value: is required');
      expect(validationMessage(() => pipe.transform({ value: 42 }))).toBe('value: must be a string, or a JSON object for a structured type');
      expect(validationMessage(() => pipe.transform({ value: 'x', expected_version: -1 }))).toBe('expected_version: must be a non-negative integer');
      expect(validationMessage(() => pipe.transform({ value: 'x', max_versions: 5000 }))).toBe('max_versions: must be 0 (keep all) to 1000');
      expect(validationMessage(() => pipe.transform({ value: 'x', grace_period_seconds: 1.5 }))).toBe('grace_period_seconds: must be a whole number of seconds');
      expect(validationMessage(() => pipe.transform({ value: 'x', secret: 'y' }))).toBe('unknown field(s): secret');
    });
  });

  it('needs at least one version to undelete or destroy', () => {
    const pipe = new ZodBodyPipe(versionsBody);
    expect(pipe.transform({ versions: [1, 2] })).toEqual({ versions: [1, 2] });
    expect(validationMessage(() => pipe.transform({ versions: [] }))).toBe('versions: must name at least one version');
    expect(validationMessage(() => pipe.transform({}))).toBe('versions: is required');
    expect(validationMessage(() => pipe.transform({ versions: [0] }))).toBe('versions.0: must be a positive integer');
  });
});
