import { Body, Controller, Get, Inject, Param, Put, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import type { Principal } from '@llmops/platform-auth';
import { CurrentPrincipal, environmentFromQuery, RequirePermission, type AuthenticatedRequest } from '../access/access-policy.decorator.js';
import { ZodBodyPipe } from '../access/zod-body.pipe.js';
import { requiredEnv } from '../configs/config-requests.js';
import { jsonSchemaOf } from '../openapi/json-schema.js';
import { LLM_CONFIG_CLIENT, type LlmConfigClient } from '../upstreams/upstream-clients.js';
import { upstreamMetadata } from '../upstreams/upstream-metadata.js';
import { LLM_CONFIG_KIND_PATHS, llmConfigKindOf, namespaceAndNameOf, namespaceQueryOf, putLlmConfigBody, type PutLlmConfigBody } from './llm-config-requests.js';
import { llmConfigViewOf, type LlmConfigView } from './llm-config-views.js';

const kindParam = { name: 'kind', enum: Object.keys(LLM_CONFIG_KIND_PATHS), description: 'endpoints, failover-chains, presets or pricing' };
const pathParam = { name: '*', description: 'the namespace, then the name (for pricing: the provider)', example: 'acme/chatbot/gpt-4o' };
const envQuery = { name: 'env', required: true, description: 'environment: base, development, staging, production, …' };

const viewShape =
  'Answers {"kind", "namespace", "name", "key": the config key it is stored under ("endpoint.<name>", "failover.<name>", ' +
  '"preset.<name>", "pricing.<provider>"), "environment" (null for a built-in preset), "value", "version" (0 built-in), ' +
  '"revision", "built_in", "updated_by", "updated_at"}. History, rollback, delete and watch are those of the config: ' +
  '/api/v1/configs/<namespace>/<key>.';

/**
 * Model endpoints, failover chains, parameter presets and model pricing (seed 001 §6): configs of a known kind,
 * validated by config-manager against the kind's built-in schema. Reads and writes need configs:read / configs:write
 * in `env`, as any config.
 */
@ApiTags('llm-configs')
@ApiBearerAuth()
@ApiSecurity('apiKey')
@Controller('api/v1/llm')
export class LlmConfigsController {
  constructor(@Inject(LLM_CONFIG_CLIENT) private readonly llm: LlmConfigClient) {}

  @Get(':kind')
  @RequirePermission('configs:read', { environment: environmentFromQuery })
  @ApiOperation({
    summary: 'List the configs of a kind in a namespace, by name (presets include the five built-in profiles)',
    description: `Answers {"data": [views]}. ${viewShape}`,
  })
  @ApiParam(kindParam)
  @ApiQuery({ name: 'namespace', required: true, description: 'e.g. acme/chatbot' })
  @ApiQuery(envQuery)
  async list(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('kind') kind: string,
    @Query('namespace') namespace: unknown,
    @Query('env') env: unknown,
  ): Promise<{ data: LlmConfigView[] }> {
    const llmKind = llmConfigKindOf(kind);
    const response = await this.llm.listLlmConfigs(
      { kind: llmKind, namespace: namespaceQueryOf(namespace), environment: requiredEnv(env) },
      { metadata: upstreamMetadata(request, principal) },
    );
    return { data: response.configs.map(llmConfigViewOf) };
  }

  @Get(':kind/*')
  @RequirePermission('configs:read', { environment: environmentFromQuery })
  @ApiOperation({ summary: 'Read one config of a kind, resolved through the environment chain; presets fall back to the built-in profiles', description: viewShape })
  @ApiParam(kindParam)
  @ApiParam(pathParam)
  @ApiQuery(envQuery)
  async get(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('kind') kind: string,
    @Param('*') path: string,
    @Query('env') env: unknown,
  ): Promise<LlmConfigView> {
    const llmKind = llmConfigKindOf(kind);
    const { namespace, name } = namespaceAndNameOf(path, 'acme/chatbot/gpt-4o');
    const response = await this.llm.getLlmConfig(
      { kind: llmKind, namespace, name, environment: requiredEnv(env) },
      { metadata: upstreamMetadata(request, principal) },
    );
    return llmConfigViewOf(response.config);
  }

  @Put(':kind/*')
  @RequirePermission('configs:write', { environment: environmentFromQuery })
  @ApiOperation({
    summary: "Write a new version of a config of a kind, checked against the kind's schema",
    description:
      'endpoints: {"provider": openai | anthropic | aws_bedrock | azure_openai | gcp_vertex | cohere | huggingface | custom, ' +
      '"model", "base_url"? (required for azure_openai and custom), "api_key": {"$secret": "<path>", "field"?} (required for ' +
      'openai, anthropic, azure_openai, cohere; a plaintext key is refused), "region"?, "deployment"?, "api_version"?, ' +
      '"timeout_ms"?, "default_parameters"?: {temperature, top_p, top_k, max_tokens, presence_penalty, frequency_penalty, stop, seed}}. ' +
      'failover-chains: {"primary": endpoint, "fallbacks"?: [endpoints, in order], "circuit_breaker"?: {"failure_threshold" (3), ' +
      '"half_open_after_seconds" (60), "half_open_max_requests" (1)}}; every endpoint must exist in the namespace and env. ' +
      'presets: {"temperature", "top_p", other sampling parameters?, "description"?}. ' +
      'pricing (named by provider): {"models": {"<model>": {"input_usd_per_million", "output_usd_per_million"}}}. ' +
      `${viewShape} 400 names the field that is wrong; 409 when expected_version is not the current version.`,
  })
  @ApiParam(kindParam)
  @ApiParam(pathParam)
  @ApiQuery(envQuery)
  @ApiBody({ schema: jsonSchemaOf(putLlmConfigBody) })
  async put(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('kind') kind: string,
    @Param('*') path: string,
    @Query('env') env: unknown,
    @Body(new ZodBodyPipe(putLlmConfigBody)) body: PutLlmConfigBody,
  ): Promise<LlmConfigView> {
    const llmKind = llmConfigKindOf(kind);
    const { namespace, name } = namespaceAndNameOf(path, 'acme/chatbot/gpt-4o');
    const response = await this.llm.putLlmConfig(
      {
        kind: llmKind,
        namespace,
        name,
        environment: requiredEnv(env),
        value: fromJson(ValueSchema, body.value as JsonValue),
        expectedVersion: body.expected_version === undefined ? undefined : BigInt(body.expected_version),
      },
      { metadata: upstreamMetadata(request, principal) },
    );
    return llmConfigViewOf(response.config);
  }
}
