import { describe, expect, it } from '@jest/globals';
import { fromJson } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import { Classification } from '@llmops/contracts';
import { ZodBodyPipe } from '../access/zod-body.pipe.js';
import { GatewayErrorCode } from '../errors/gateway.exception.js';
import { rejection, validationMessage } from '../testing/route-testing.js';
import type { FastifyRequest } from 'fastify';
import {
  bulkApplyBody,
  bulkApplyRequestOf,
  configTargetOf,
  parseHistoryQuery,
  READ_ACTIONS,
  readEnvironmentOf,
  requiredEnv,
  rollbackBody,
  splitPath,
  undeleteBody,
  validateConfigsBody,
  validateNamespaceOf,
  versionFromIfMatch,
  watchNamespaceOf,
  watchStartOf,
  writeTargetOf,
} from './config-requests.js';

describe('config request parsing', () => {
  describe(configTargetOf.name, () => {
    it('takes a trailing action off the path', () => {
      expect(configTargetOf('acme/chatbot/model/history', READ_ACTIONS)).toEqual({ namespace: 'acme/chatbot', key: 'model', action: 'history' });
      expect(configTargetOf('acme/model/history/', READ_ACTIONS)).toEqual({ namespace: 'acme', key: 'model', action: 'history' });
    });

    it('reads a path without an action, or with another action, as a key', () => {
      expect(configTargetOf('acme/chatbot/model', READ_ACTIONS)).toEqual({ namespace: 'acme/chatbot', key: 'model', action: undefined });
      expect(configTargetOf('acme/chatbot/model/', READ_ACTIONS)).toEqual({ namespace: 'acme/chatbot', key: 'model', action: undefined });
      expect(configTargetOf('acme/model/rollback', READ_ACTIONS)).toEqual({ namespace: 'acme/model', key: 'rollback', action: undefined });
      expect(configTargetOf('acme/history/model', READ_ACTIONS)).toEqual({ namespace: 'acme/history', key: 'model', action: undefined });
    });

    it('needs a namespace and a key before the action', () => {
      expect(validationMessage(() => configTargetOf('acme/history', READ_ACTIONS))).toBe(
        'path must be <namespace>/<key>/history, e.g. acme/chatbot/model/history',
      );
      expect(validationMessage(() => configTargetOf('history', READ_ACTIONS))).toMatch(/^path must be <namespace>\/<key>\/history/);
      expect(validationMessage(() => configTargetOf('acme', READ_ACTIONS))).toBe('path must be <namespace>/<key>, e.g. acme/chatbot/model');
      expect(validationMessage(() => configTargetOf(undefined, READ_ACTIONS))).toMatch(/^path must be <namespace>\/<key>,/);
    });
  });

  describe(writeTargetOf.name, () => {
    it('accepts rollback and undelete', () => {
      expect(writeTargetOf('acme/chatbot/model/rollback')).toEqual({ namespace: 'acme/chatbot', key: 'model', action: 'rollback' });
      expect(writeTargetOf('acme/model/undelete')).toEqual({ namespace: 'acme', key: 'model', action: 'undelete' });
    });

    it('answers any other POST path with 404 naming the supported actions', () => {
      for (const path of ['acme/chatbot/model', 'acme/model/history', 'acme/model/restore', '', undefined]) {
        const error = rejection(() => writeTargetOf(path));
        expect(error.code).toBe(GatewayErrorCode.NotFound);
        expect(error.message).toBe('POST /api/v1/configs/<namespace>/<key>/<action> supports the actions rollback, undelete, and <namespace>/validate');
      }
    });

    it('needs a namespace and a key before the action', () => {
      expect(validationMessage(() => writeTargetOf('model/rollback'))).toBe('path must be <namespace>/<key>/rollback, e.g. acme/chatbot/model/rollback');
    });

    it('reads validate as a namespace segment when an action follows', () => {
      expect(writeTargetOf('acme/validate/rollback')).toEqual({ namespace: 'acme', key: 'validate', action: 'rollback' });
    });
  });

  it(`${validateNamespaceOf.name} reads …/<namespace>/validate at any depth, and nothing else`, () => {
    expect(validateNamespaceOf('acme/validate')).toBe('acme');
    expect(validateNamespaceOf('acme/chatbot/eu/validate/')).toBe('acme/chatbot/eu');
    expect(validateNamespaceOf('validate')).toBeUndefined();
    expect(validateNamespaceOf('acme/chatbot/model/rollback')).toBeUndefined();
  });

  it(`${watchNamespaceOf.name} reads …/<namespace>/watch at any depth, and nothing else`, () => {
    expect(watchNamespaceOf('acme/watch')).toBe('acme');
    expect(watchNamespaceOf('acme/chatbot/eu/watch/')).toBe('acme/chatbot/eu');
    expect(watchNamespaceOf('acme/watch/watch')).toBe('acme/watch');
    expect(watchNamespaceOf('watch')).toBeUndefined();
    expect(watchNamespaceOf('acme/watch/model')).toBeUndefined();
    expect(watchNamespaceOf('acme/model/history')).toBeUndefined();
    expect(watchNamespaceOf(undefined)).toBeUndefined();
  });

  it(`${readEnvironmentOf.name} takes env for a read, and none for a watch`, () => {
    const request = (path: string, query: Record<string, unknown>) => ({ params: { '*': path }, query }) as unknown as FastifyRequest;
    expect(readEnvironmentOf(request('acme/model', { env: 'production' }))).toBe('production');
    expect(readEnvironmentOf(request('acme/model/history', { env: 'dev' }))).toBe('dev');
    expect(readEnvironmentOf(request('acme/watch/model', { env: 'dev' }))).toBe('dev');
    expect(readEnvironmentOf(request('acme/model', {}))).toBeUndefined();
    expect(readEnvironmentOf(request('acme/chatbot/watch', { env: 'production' }))).toBeUndefined();
  });

  describe(watchStartOf.name, () => {
    it('starts at start_revision, at the next change without one', () => {
      expect(watchStartOf({ start_revision: '7', env: 'dev' }, undefined)).toBe(7);
      expect(watchStartOf({ start_revision: '0' }, undefined)).toBe(0);
      expect(watchStartOf({}, undefined)).toBe(0);
      expect(watchStartOf(undefined, undefined)).toBe(0);
    });

    it('resumes after Last-Event-ID, over start_revision; an empty one is no event seen', () => {
      expect(watchStartOf({ start_revision: '7' }, '45')).toBe(46);
      expect(watchStartOf({}, '0')).toBe(1);
      expect(watchStartOf({}, '9'.repeat(15))).toBe(10 ** 15);
      expect(watchStartOf({ start_revision: '3' }, '')).toBe(3);
    });

    it('names a bad start_revision or Last-Event-ID', () => {
      for (const value of ['-1', '1.5', 'abc', '', '1e3', '1'.repeat(16), ['1', '2']]) {
        expect(validationMessage(() => watchStartOf({ start_revision: value }, undefined))).toBe('start_revision: must be a non-negative integer');
      }
      // A bad start_revision is a bad URL, even when Last-Event-ID would win.
      expect(validationMessage(() => watchStartOf({ start_revision: 'x' }, '4'))).toBe('start_revision: must be a non-negative integer');
      for (const header of ['-1', 'abc', '4, 5', '1.0', '1'.repeat(16)]) {
        expect(validationMessage(() => watchStartOf({}, header))).toBe(
          'Last-Event-ID: must be the id of an event, a revision (a non-negative integer)',
        );
      }
    });
  });

  it(`${splitPath.name} splits the key off the namespace`, () => {
    expect(splitPath('acme/chatbot/model')).toEqual({ namespace: 'acme/chatbot', key: 'model' });
    expect(splitPath('acme/model/history')).toEqual({ namespace: 'acme/model', key: 'history' });
  });

  it(`${requiredEnv.name} insists on one env`, () => {
    expect(requiredEnv('production')).toBe('production');
    for (const env of [undefined, '', ['a', 'b']]) {
      expect(validationMessage(() => requiredEnv(env))).toBe('query parameter env is required, e.g. ?env=development');
    }
  });

  it(`${versionFromIfMatch.name} reads a version from an entity tag`, () => {
    expect(versionFromIfMatch(undefined)).toBeUndefined();
    expect(versionFromIfMatch('"3"')).toBe(3);
    expect(versionFromIfMatch('W/"4"')).toBe(4);
    expect(versionFromIfMatch(' 5 ')).toBe(5);
    expect(versionFromIfMatch('"2147483647"')).toBe(2_147_483_647);
    for (const header of ['*', '"v3"', '', '1'.repeat(16), '"2147483648"']) {
      expect(validationMessage(() => versionFromIfMatch(header))).toBe('If-Match must be a version number up to 2147483647, e.g. "3"');
    }
  });

  describe(parseHistoryQuery.name, () => {
    it('reads before_version and limit, ignoring other parameters', () => {
      expect(parseHistoryQuery({ env: 'production', before_version: '7', limit: '20', exact: 'true' })).toEqual({ before_version: 7, limit: 20 });
      expect(parseHistoryQuery({ before_version: '0', limit: '500' })).toEqual({ before_version: 0, limit: 500 });
      expect(parseHistoryQuery({})).toEqual({});
      expect(parseHistoryQuery(undefined)).toEqual({});
    });

    it('names a before_version that is not an integer from 0 to the largest version', () => {
      for (const value of ['-1', '1.5', 'abc', '', '1e3', '0x10', ' 7', '1'.repeat(16), ['1', '2'], '2147483648']) {
        expect(validationMessage(() => parseHistoryQuery({ before_version: value }))).toBe('before_version: must be an integer from 0 to 2147483647');
      }
    });

    it('names a limit outside 1..500', () => {
      for (const value of ['0', '501', '-1', '2.5', 'ten', '']) {
        expect(validationMessage(() => parseHistoryQuery({ limit: value }))).toBe('limit: must be an integer from 1 to 500');
      }
    });

    it('reports every bad parameter', () => {
      expect(validationMessage(() => parseHistoryQuery({ before_version: 'x', limit: '0' }))).toBe(
        'before_version: must be an integer from 0 to 2147483647; limit: must be an integer from 1 to 500',
      );
    });
  });

  describe('rollback body', () => {
    const pipe = new ZodBodyPipe(rollbackBody);

    it('takes a version and an optional expected_version', () => {
      expect(pipe.transform({ version: 2 })).toEqual({ version: 2 });
      expect(pipe.transform({ version: 2, expected_version: 5 })).toEqual({ version: 2, expected_version: 5 });
    });

    it('names a missing or bad version', () => {
      expect(validationMessage(() => pipe.transform({}))).toBe('version: is required');
      expect(validationMessage(() => pipe.transform({ version: 0 }))).toBe('version: must be a positive integer');
      expect(validationMessage(() => pipe.transform({ version: 1.5 }))).toBe('version: must be an integer');
      expect(validationMessage(() => pipe.transform({ version: '2' }))).toBe('version: must be an integer');
      expect(validationMessage(() => pipe.transform({ version: -2.5 }))).toBe('version: must be a positive integer');
      expect(validationMessage(() => pipe.transform({ version: 2 ** 60 }))).toBe('version: must be at most 2147483647');
      expect(validationMessage(() => pipe.transform({ version: 2 ** 31 }))).toBe('version: must be at most 2147483647');
      expect(validationMessage(() => pipe.transform({ version: 2, expected_version: -1 }))).toBe('expected_version: must be a non-negative integer');
    });

    it('refuses unknown fields and a missing body', () => {
      expect(validationMessage(() => pipe.transform({ version: 2, value: 'x' }))).toBe('unknown field(s): value');
      expect(validationMessage(() => pipe.transform(undefined))).toBe('request body must be a JSON object');
    });
  });

  describe('validate body', () => {
    const pipe = new ZodBodyPipe(validateConfigsBody);

    it('takes any JSON value by key', () => {
      const values = { model: { name: 'gpt' }, temperature: 0.2, tags: ['a'], enabled: false, fallback: null, prompt: 'hi' };
      expect(pipe.transform({ values })).toEqual({ values });
      const most = Object.fromEntries(Array.from({ length: 500 }, (_, index) => [`k${index}`, index]));
      expect(pipe.transform({ values: most }).values).toEqual(most);
    });

    it('names missing, empty, oversized or malformed values and unknown fields', () => {
      expect(validationMessage(() => pipe.transform({}))).toBe('values: is required');
      expect(validationMessage(() => pipe.transform({ values: {} }))).toBe('values: must hold 1 to 500 keys');
      const tooMany = Object.fromEntries(Array.from({ length: 501 }, (_, index) => [`k${index}`, index]));
      expect(validationMessage(() => pipe.transform({ values: tooMany }))).toBe('values: must hold 1 to 500 keys');
      for (const values of [[1], 'x', null]) {
        expect(validationMessage(() => pipe.transform({ values }))).toBe('values: must be an object of values by key');
      }
      expect(validationMessage(() => pipe.transform({ values: { a: 1 }, namespace: 'acme' }))).toBe('unknown field(s): namespace');
    });
  });

  describe('undelete body', () => {
    const pipe = new ZodBodyPipe(undeleteBody);

    it('takes an optional expected_version', () => {
      expect(pipe.transform({})).toEqual({});
      expect(pipe.transform({ expected_version: 3 })).toEqual({ expected_version: 3 });
    });

    it('names a bad expected_version and unknown fields', () => {
      expect(validationMessage(() => pipe.transform({ expected_version: 'three' }))).toBe('expected_version: must be an integer');
      expect(validationMessage(() => pipe.transform({ version: 3 }))).toBe('unknown field(s): version');
    });
  });

  describe('bulk apply body', () => {
    const pipe = new ZodBodyPipe(bulkApplyBody);
    const set = { op: 'set', path: 'acme/chatbot/model', env: 'production', value: { name: 'gpt' } } as const;
    const remove = { op: 'delete', path: 'acme/old', env: 'dev' } as const;
    const operations = (...list: unknown[]) => ({ operations: list });

    it('takes sets and deletions in order, with their optional fields', () => {
      const body = operations({ ...set, classification: 'confidential', expected_version: 0 }, remove, { ...set, value: null });
      expect(pipe.transform(body)).toEqual(body);
      expect(pipe.transform(operations(...Array.from({ length: 1000 }, () => remove))).operations).toHaveLength(1000);
    });

    it('names a missing, empty, oversized or malformed list', () => {
      expect(validationMessage(() => pipe.transform({}))).toBe('operations: is required');
      expect(validationMessage(() => pipe.transform(operations()))).toBe('operations: must hold 1 to 1000 operations');
      expect(validationMessage(() => pipe.transform(operations(...Array.from({ length: 1001 }, () => remove))))).toBe(
        'operations: must hold 1 to 1000 operations',
      );
      expect(validationMessage(() => pipe.transform({ operations: { 0: set } }))).toBe('operations: must be an array of operations');
      expect(validationMessage(() => pipe.transform({ ...operations(set), atomic: true }))).toBe('unknown field(s): atomic');
      expect(validationMessage(() => pipe.transform(undefined))).toBe('request body must be a JSON object');
    });

    it('names the failing operation by its index', () => {
      for (const [operation, message] of [
        [{ op: 'set', path: 'acme/model', value: 1 }, 'operations.1.env: is required'],
        [{ ...remove, env: '' }, 'operations.1.env: must not be empty'],
        [{ ...remove, env: 3 }, 'operations.1.env: must be a string'],
        [{ ...remove, path: undefined }, 'operations.1.path: is required'],
        [{ ...remove, path: 'acme' }, 'operations.1.path: must be <namespace>/<key>, e.g. acme/chatbot/model'],
        [{ ...remove, path: 'acme/' }, 'operations.1.path: must be <namespace>/<key>, e.g. acme/chatbot/model'],
        [{ op: 'set', path: 'acme/model', env: 'dev' }, 'operations.1.value: is required'],
        [{ ...set, classification: 'secret' }, 'operations.1.classification: must be one of public, internal, confidential'],
        [{ ...set, expected_version: -1 }, 'operations.1.expected_version: must be a non-negative integer'],
        [{ ...remove, expected_version: 1.5 }, 'operations.1.expected_version: must be an integer'],
        [{ ...remove, value: 1, colour: 'red' }, 'operations.1: unknown field(s): value, colour'],
        [{ ...set, op: 'upsert' }, 'operations.1.op: must be set or delete'],
        [{ path: 'acme/model', env: 'dev' }, 'operations.1.op: must be set or delete'],
        ['set', 'operations.1: must be an object'],
        [[set], 'operations.1: must be an object'],
      ] as const) {
        expect(validationMessage(() => pipe.transform(operations(set, operation)))).toBe(message);
      }
    });

    it('reports every failing operation', () => {
      expect(validationMessage(() => pipe.transform(operations({ ...remove, env: undefined }, set, { ...set, op: 'put' })))).toBe(
        'operations.0.env: is required; operations.2.op: must be set or delete',
      );
    });
  });

  it(`${bulkApplyRequestOf.name} maps each operation to its case of the oneof, in order`, () => {
    const request = bulkApplyRequestOf({
      operations: [
        { op: 'set', path: 'acme/chatbot/model', env: 'production', value: { name: 'gpt', tags: ['a'] }, classification: 'public', expected_version: 3 },
        { op: 'delete', path: 'acme/old/', env: 'dev', expected_version: 0 },
        { op: 'set', path: 'acme/flag', env: 'dev', value: false },
        { op: 'delete', path: 'a/b/c/d', env: 'dev' },
      ],
    });
    expect(request).toEqual({
      operations: [
        {
          operation: {
            case: 'set',
            value: {
              namespace: 'acme/chatbot',
              key: 'model',
              environment: 'production',
              value: fromJson(ValueSchema, { name: 'gpt', tags: ['a'] }),
              classification: Classification.PUBLIC,
              expectedVersion: 3n,
            },
          },
        },
        { operation: { case: 'delete', value: { namespace: 'acme', key: 'old', environment: 'dev', expectedVersion: 0n } } },
        {
          operation: {
            case: 'set',
            value: {
              namespace: 'acme',
              key: 'flag',
              environment: 'dev',
              value: fromJson(ValueSchema, false),
              classification: Classification.UNSPECIFIED,
              expectedVersion: undefined,
            },
          },
        },
        { operation: { case: 'delete', value: { namespace: 'a/b/c', key: 'd', environment: 'dev', expectedVersion: undefined } } },
      ],
    });
  });
});
