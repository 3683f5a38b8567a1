import { Body, Controller, Delete, Get, Headers, Inject, Param, Put, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { fromJson, toJson, type JsonValue } from '@bufbuild/protobuf';
import { timestampDate, ValueSchema } from '@bufbuild/protobuf/wkt';
import { Classification, type ConfigEntry } from '@llmops/contracts';
import type { Principal } from '@llmops/platform-auth';
import { z } from 'zod';
import {
  CurrentPrincipal,
  environmentFromQuery,
  RequirePermission,
  type AuthenticatedRequest,
} from '../access/access-policy.decorator.js';
import { ZodBodyPipe } from '../access/zod-body.pipe.js';
import { GatewayErrorCode, GatewayException } from '../errors/gateway.exception.js';
import { jsonSchemaOf } from '../openapi/json-schema.js';
import { CONFIG_CLIENT, type ConfigClient } from '../upstreams/upstream-clients.js';
import { upstreamMetadata } from '../upstreams/upstream-metadata.js';

const classifications = { public: Classification.PUBLIC, internal: Classification.INTERNAL, confidential: Classification.CONFIDENTIAL };

const putConfigBody = z.strictObject({
  value: z.json().refine((v) => v !== undefined, 'is required'),
  classification: z.enum(['public', 'internal', 'confidential']).optional(),
  expected_version: z.number().int().min(0).optional(),
});

export interface ConfigView {
  namespace: string;
  key: string;
  environment: string;
  value: JsonValue;
  version: number;
  revision: number;
  classification: string;
  updated_by: string;
  updated_at: string;
  resolved_from?: string;
}

const pathParam = { name: '*', description: 'namespace segments then the key, e.g. acme/chatbot/model', example: 'acme/chatbot/model' };
const envQuery = { name: 'env', required: true, description: 'environment: base, development, staging, production, …' };

@ApiTags('configs')
@ApiBearerAuth()
@ApiSecurity('apiKey')
@Controller('api/v1/configs')
export class ConfigsController {
  constructor(@Inject(CONFIG_CLIENT) private readonly configs: ConfigClient) {}

  @Get('*')
  @RequirePermission('configs:read', { environment: environmentFromQuery })
  @ApiOperation({ summary: 'Read a key, resolved through the environment chain unless exact=true' })
  @ApiParam(pathParam)
  @ApiQuery(envQuery)
  @ApiQuery({ name: 'exact', required: false, description: 'read this environment only' })
  async get(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('*') path: string,
    @Query('env') env: unknown,
    @Query('exact') exact: unknown,
  ): Promise<ConfigView> {
    const { namespace, key } = splitPath(path);
    const response = await this.configs.getConfig(
      { namespace, key, environment: requiredEnv(env), exact: exact === 'true' || exact === '1' },
      { metadata: upstreamMetadata(request, principal) },
    );
    return { ...viewOf(response.entry), resolved_from: response.resolvedFrom };
  }

  @Put('*')
  @RequirePermission('configs:write', { environment: environmentFromQuery })
  @ApiOperation({ summary: 'Write a new version of a key (check-and-set with expected_version or If-Match)' })
  @ApiParam(pathParam)
  @ApiQuery(envQuery)
  @ApiBody({ schema: jsonSchemaOf(putConfigBody) })
  async put(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('*') path: string,
    @Query('env') env: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Body(new ZodBodyPipe(putConfigBody)) body: z.infer<typeof putConfigBody>,
  ): Promise<ConfigView> {
    const { namespace, key } = splitPath(path);
    const expectedVersion = body.expected_version ?? versionFromIfMatch(ifMatch);
    const response = await this.configs.setConfig(
      {
        namespace,
        key,
        environment: requiredEnv(env),
        value: fromJson(ValueSchema, body.value as JsonValue),
        classification: body.classification ? classifications[body.classification] : Classification.UNSPECIFIED,
        expectedVersion: expectedVersion === undefined ? undefined : BigInt(expectedVersion),
      },
      { metadata: upstreamMetadata(request, principal) },
    );
    return viewOf(response.entry);
  }

  @Delete('*')
  @RequirePermission('configs:delete', { environment: environmentFromQuery })
  @ApiOperation({ summary: 'Delete a key in one environment (a tombstone version; history is kept)' })
  @ApiParam(pathParam)
  @ApiQuery(envQuery)
  async delete(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('*') path: string,
    @Query('env') env: unknown,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<{ namespace: string; key: string; environment: string; version: number; revision: number; deleted: true }> {
    const { namespace, key } = splitPath(path);
    const environment = requiredEnv(env);
    const expectedVersion = versionFromIfMatch(ifMatch);
    const response = await this.configs.deleteConfig(
      { namespace, key, environment, expectedVersion: expectedVersion === undefined ? undefined : BigInt(expectedVersion) },
      { metadata: upstreamMetadata(request, principal) },
    );
    return { namespace, key, environment, version: Number(response.version), revision: Number(response.revision), deleted: true };
  }
}

/** `acme/chatbot/model` → namespace `acme/chatbot`, key `model`; segment rules are config-manager's to enforce. */
function splitPath(path: string | undefined): { namespace: string; key: string } {
  const segments = (path ?? '').split('/');
  if (segments.at(-1) === '') segments.pop();
  if (segments.length < 2) {
    throw new GatewayException(GatewayErrorCode.ValidationError, 'path must be <namespace>/<key>, e.g. acme/chatbot/model');
  }
  return { namespace: segments.slice(0, -1).join('/'), key: segments.at(-1)! };
}

function requiredEnv(env: unknown): string {
  if (typeof env !== 'string' || env === '') {
    throw new GatewayException(GatewayErrorCode.ValidationError, 'query parameter env is required, e.g. ?env=development');
  }
  return env;
}

function versionFromIfMatch(ifMatch: string | undefined): number | undefined {
  if (ifMatch === undefined) return undefined;
  const match = /^(?:W\/)?"?(\d+)"?$/.exec(ifMatch.trim());
  if (!match) throw new GatewayException(GatewayErrorCode.ValidationError, 'If-Match must be a version number, e.g. "3"');
  return Number(match[1]);
}

function viewOf(entry: ConfigEntry | undefined): ConfigView {
  if (!entry) throw new GatewayException(GatewayErrorCode.Internal, 'internal error');
  return {
    namespace: entry.namespace,
    key: entry.key,
    environment: entry.environment,
    value: entry.value ? toJson(ValueSchema, entry.value) : null,
    version: Number(entry.version),
    revision: Number(entry.revision),
    classification: Classification[entry.classification].toLowerCase(),
    updated_by: entry.updatedBy,
    updated_at: entry.updatedAt ? timestampDate(entry.updatedAt).toISOString() : '',
  };
}
