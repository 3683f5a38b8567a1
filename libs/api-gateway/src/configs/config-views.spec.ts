import { describe, expect, it } from '@jest/globals';
import { create, fromJson } from '@bufbuild/protobuf';
import { timestampFromDate, ValueSchema } from '@bufbuild/protobuf/wkt';
import {
  ChangeType,
  Classification,
  ConfigEntrySchema,
  GetConfigHistoryResponseSchema,
  ValidateConfigsResponseSchema,
  WatchConfigsResponseSchema,
} from '@llmops/contracts';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';
import { configChangeViewOf, configHistoryViewOf, configViewOf, validationViewOf } from './config-views.js';

const live = create(ConfigEntrySchema, {
  namespace: 'acme/chatbot',
  key: 'model',
  environment: 'production',
  value: fromJson(ValueSchema, { name: 'gpt', temperature: 0.2 }),
  version: 3n,
  revision: 41n,
  classification: Classification.INTERNAL,
  updatedBy: 'u-1',
  updatedAt: timestampFromDate(new Date('2025-01-02T03:04:05.006Z')),
});
const tombstone = create(ConfigEntrySchema, { ...live, value: undefined, version: 4n, revision: 42n, deleted: true });

describe('config views', () => {
  it(`${configViewOf.name} shows a live entry with deleted false`, () => {
    expect(configViewOf(live)).toEqual({
      namespace: 'acme/chatbot',
      key: 'model',
      environment: 'production',
      value: { name: 'gpt', temperature: 0.2 },
      version: 3,
      revision: 41,
      classification: 'internal',
      updated_by: 'u-1',
      updated_at: '2025-01-02T03:04:05.006Z',
      deleted: false,
    });
  });

  it(`${configViewOf.name} shows a tombstone with value null`, () => {
    expect(configViewOf(tombstone)).toMatchObject({ version: 4, deleted: true, value: null });
    expect(configViewOf(create(ConfigEntrySchema, { ...live, deleted: true }))).toMatchObject({ deleted: true, value: null });
  });

  it(`${configViewOf.name} refuses a missing entry as an internal error`, () => {
    expect(() => configViewOf(undefined)).toThrow(new GatewayException(GatewayErrorCode.Internal, 'internal error'));
  });

  it(`${configHistoryViewOf.name} keeps the order and turns the last page's 0 into null`, () => {
    const page = configHistoryViewOf(create(GetConfigHistoryResponseSchema, { entries: [tombstone, live], nextBeforeVersion: 3n }));
    expect(page.data.map((entry) => [entry.version, entry.deleted])).toEqual([
      [4, true],
      [3, false],
    ]);
    expect(page.next_before_version).toBe(3);
    expect(configHistoryViewOf(create(GetConfigHistoryResponseSchema, { entries: [] }))).toEqual({ data: [], next_before_version: null });
  });

  it(`${validationViewOf.name} keeps every result in order, problems as path and message`, () => {
    const response = create(ValidateConfigsResponseSchema, {
      valid: false,
      results: [
        { key: 'model', valid: true },
        { key: 'limits', valid: false, problems: [{ path: '/max_tokens', message: 'must be >= 1' }, { path: '', message: 'must not have property x' }] },
      ],
    });
    expect(validationViewOf(response)).toEqual({
      valid: false,
      results: [
        { key: 'model', valid: true, problems: [] },
        {
          key: 'limits',
          valid: false,
          problems: [
            { path: '/max_tokens', message: 'must be >= 1' },
            { path: '', message: 'must not have property x' },
          ],
        },
      ],
    });
    expect(validationViewOf(create(ValidateConfigsResponseSchema, { valid: true }))).toEqual({ valid: true, results: [] });
  });

  it(`${configChangeViewOf.name} shows a change's revision, its type and the version it wrote`, () => {
    expect(configChangeViewOf(create(WatchConfigsResponseSchema, { type: ChangeType.PUT, entry: live, revision: 41n }))).toEqual({
      revision: 41,
      type: 'put',
      entry: configViewOf(live),
    });
    expect(configChangeViewOf(create(WatchConfigsResponseSchema, { type: ChangeType.DELETE, entry: tombstone, revision: 42n }))).toEqual({
      revision: 42,
      type: 'delete',
      entry: expect.objectContaining({ version: 4, deleted: true, value: null }),
    });
  });
});
