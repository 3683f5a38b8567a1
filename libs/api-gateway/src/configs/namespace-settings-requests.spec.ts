import { describe, expect, it } from '@jest/globals';
import { ZodBodyPipe } from '../access/zod-body.pipe.js';
import { validationMessage } from '../testing/route-testing.js';
import { namespaceOf, putNamespaceSettingsBody } from './namespace-settings-requests.js';

describe('namespace settings request parsing', () => {
  it(`${namespaceOf.name} takes the whole path, without a trailing slash`, () => {
    expect(namespaceOf('acme/chatbot')).toBe('acme/chatbot');
    expect(namespaceOf('acme/')).toBe('acme');
    for (const path of ['', undefined]) {
      expect(validationMessage(() => namespaceOf(path))).toBe('path must be a namespace, e.g. acme/chatbot');
    }
  });

  describe('settings body', () => {
    const pipe = new ZodBodyPipe(putNamespaceSettingsBody);

    it('takes schemas as objects or booleans, environments and an expected_version, each optional', () => {
      const body = {
        schema: { type: 'object', required: ['name'] },
        key_schemas: { 'model*': { type: 'string' }, 'legacy-*': false, anything: true },
        environments: ['base', 'dev', 'prod'],
        expected_version: 0,
      };
      expect(pipe.transform(body)).toEqual(body);
      expect(pipe.transform({})).toEqual({});
      expect(pipe.transform({ schema: true })).toEqual({ schema: true });
    });

    it('names a schema that is not an object or a boolean', () => {
      for (const schema of [null, 'string', 3, [{ type: 'string' }]]) {
        expect(validationMessage(() => pipe.transform({ schema }))).toBe('schema: must be a JSON Schema: an object, true or false');
      }
      expect(validationMessage(() => pipe.transform({ key_schemas: { 'model*': 'string' } }))).toBe(
        'key_schemas.model*: must be a JSON Schema: an object, true or false',
      );
      expect(validationMessage(() => pipe.transform({ key_schemas: [] }))).toBe('key_schemas: must be an object of JSON Schemas by key pattern');
    });

    it('names environments that are not 1 to 16 strings', () => {
      const message = 'environments: must name 1 to 16 environments';
      expect(validationMessage(() => pipe.transform({ environments: [] }))).toBe(message);
      expect(validationMessage(() => pipe.transform({ environments: Array.from({ length: 17 }, (_, index) => `e${index}`) }))).toBe(message);
      expect(pipe.transform({ environments: Array.from({ length: 16 }, (_, index) => `e${index}`) }).environments).toHaveLength(16);
      expect(validationMessage(() => pipe.transform({ environments: 'base' }))).toBe('environments: must be an array of environment names');
      expect(validationMessage(() => pipe.transform({ environments: ['base', 2] }))).toBe('environments.1: must be a string');
    });

    it('names a bad expected_version, unknown fields and a missing body', () => {
      expect(validationMessage(() => pipe.transform({ expected_version: -1 }))).toBe('expected_version: must be a non-negative integer');
      expect(validationMessage(() => pipe.transform({ expected_version: 1.5 }))).toBe('expected_version: must be an integer');
      expect(validationMessage(() => pipe.transform({ schemas: {} }))).toBe('unknown field(s): schemas');
      expect(validationMessage(() => pipe.transform(undefined))).toBe('request body must be a JSON object');
    });
  });
});
