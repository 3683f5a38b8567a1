import { Body, Controller, Get, Headers, Inject, Optional, Param, Put, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import type { Principal } from '@llmops/platform-auth';
import { CurrentPrincipal, RequirePermission, type AuthenticatedRequest } from '../access/access-policy.decorator.js';
import { ZodBodyPipe } from '../access/zod-body.pipe.js';
import { ConfigReadCache } from '../config-cache/config-read-cache.js';
import { jsonSchemaOf } from '../openapi/json-schema.js';
import { CONFIG_CLIENT, type ConfigClient } from '../upstreams/upstream-clients.js';
import { upstreamMetadata } from '../upstreams/upstream-metadata.js';
import { versionFromIfMatch } from './config-requests.js';
import { namespaceOf, putNamespaceSettingsBody, type PutNamespaceSettingsBody } from './namespace-settings-requests.js';
import { namespaceSettingsViewOf, type NamespaceSettingsView } from './namespace-settings-views.js';

const pathParam = { name: '*', description: 'the namespace, e.g. acme/chatbot', example: 'acme/chatbot' };

const settingsShape =
  'Answers {"namespace", "defined_at": string | null, "schema": JSON Schema | null, "key_schemas": {pattern: JSON Schema}, ' +
  '"environments": string[], "max_versions": number | null, "version": number, "updated_by": string | null, "updated_at": ISO 8601 | null}.';

/**
 * Namespace settings (JSON Schemas for values, the environment chain). They govern every environment, so the
 * permissions are demanded with no environment: only roles granted them in every environment pass.
 */
@ApiTags('namespaces')
@ApiBearerAuth()
@ApiSecurity('apiKey')
@Controller('api/v1/namespaces')
export class NamespacesController {
  constructor(
    @Inject(CONFIG_CLIENT) private readonly configs: ConfigClient,
    @Optional() @Inject(ConfigReadCache) private readonly readCache?: ConfigReadCache,
  ) {}

  @Get('*')
  @RequirePermission('configs:read')
  @ApiOperation({
    summary: "Read the settings that apply to a namespace: its own or its nearest ancestor's",
    description: `${settingsShape} With none defined: defined_at, schema, updated_by and updated_at null, version 0.`,
  })
  @ApiParam(pathParam)
  async get(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('*') path: string,
  ): Promise<NamespaceSettingsView> {
    const namespace = namespaceOf(path);
    const response = await this.configs.getNamespaceSettings({ namespace }, { metadata: upstreamMetadata(request, principal) });
    return namespaceSettingsViewOf(namespace, response.definedAt, response.settings);
  }

  @Put('*')
  @RequirePermission('configs:write')
  @ApiOperation({
    summary: "Replace a namespace's settings (check-and-set with expected_version or If-Match; 0 = it has none yet)",
    description:
      `${settingsShape} Fields left out are unset; the settings apply to every namespace below that has none of its own. ` +
      'max_versions (1 to 10000) keeps that many versions per key and environment: each write prunes older ones, which ' +
      'history and rollback then no longer reach, and a watch cannot start at or below a pruned revision (410).',
  })
  @ApiParam(pathParam)
  @ApiBody({ schema: jsonSchemaOf(putNamespaceSettingsBody) })
  async put(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('*') path: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Body(new ZodBodyPipe(putNamespaceSettingsBody)) body: PutNamespaceSettingsBody,
  ): Promise<NamespaceSettingsView> {
    const namespace = namespaceOf(path);
    const expectedVersion = body.expected_version ?? versionFromIfMatch(ifMatch);
    const response = await this.configs.setNamespaceSettings(
      {
        namespace,
        schema: body.schema === undefined ? undefined : fromJson(ValueSchema, body.schema as JsonValue),
        keySchemas: Object.fromEntries(
          Object.entries(body.key_schemas ?? {}).map(([pattern, schema]) => [pattern, fromJson(ValueSchema, schema as JsonValue)]),
        ),
        environments: body.environments ?? [],
        maxVersions: body.max_versions ?? 0,
        expectedVersion: expectedVersion === undefined ? undefined : BigInt(expectedVersion),
      },
      { metadata: upstreamMetadata(request, principal) },
    );
    // Other gateway replicas drop resolutions under the old chain within the cache's TTL.
    this.readCache?.forgetAll();
    return namespaceSettingsViewOf(namespace, namespace, response.settings);
  }
}
