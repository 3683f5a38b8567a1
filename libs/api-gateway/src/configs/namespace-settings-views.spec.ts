import { describe, expect, it } from '@jest/globals';
import { create, fromJson } from '@bufbuild/protobuf';
import { timestampFromDate, ValueSchema } from '@bufbuild/protobuf/wkt';
import { NamespaceSettingsSchema } from '@llmops/contracts';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';
import { namespaceSettingsViewOf } from './namespace-settings-views.js';

describe('namespace settings views', () => {
  it(`${namespaceSettingsViewOf.name} shows settings defined on an ancestor in snake_case`, () => {
    const settings = create(NamespaceSettingsSchema, {
      namespace: 'acme',
      schema: fromJson(ValueSchema, { type: 'object' }),
      keySchemas: { 'model*': fromJson(ValueSchema, { type: 'string' }), 'legacy-*': fromJson(ValueSchema, false) },
      environments: ['base', 'dev', 'prod'],
      maxVersions: 20,
      version: 3n,
      updatedBy: 'u-1',
      updatedAt: timestampFromDate(new Date('2025-01-02T03:04:05.006Z')),
    });
    expect(namespaceSettingsViewOf('acme/chatbot', 'acme', settings)).toEqual({
      namespace: 'acme/chatbot',
      defined_at: 'acme',
      schema: { type: 'object' },
      key_schemas: { 'model*': { type: 'string' }, 'legacy-*': false },
      environments: ['base', 'dev', 'prod'],
      max_versions: 20,
      version: 3,
      updated_by: 'u-1',
      updated_at: '2025-01-02T03:04:05.006Z',
    });
  });

  it(`${namespaceSettingsViewOf.name} shows the defaults with nulls and version 0`, () => {
    expect(namespaceSettingsViewOf('acme/chatbot', '', create(NamespaceSettingsSchema, { namespace: 'acme/chatbot' }))).toEqual({
      namespace: 'acme/chatbot',
      defined_at: null,
      schema: null,
      key_schemas: {},
      environments: [],
      max_versions: null,
      version: 0,
      updated_by: null,
      updated_at: null,
    });
  });

  it(`${namespaceSettingsViewOf.name} refuses missing settings as an internal error`, () => {
    expect(() => namespaceSettingsViewOf('acme', '', undefined)).toThrow(new GatewayException(GatewayErrorCode.Internal, 'internal error'));
  });
});
