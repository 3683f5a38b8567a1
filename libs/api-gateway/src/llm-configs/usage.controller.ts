import { Body, Controller, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { Principal } from '@llmops/platform-auth';
import { CurrentPrincipal, RequirePermission, type AuthenticatedRequest } from '../access/access-policy.decorator.js';
import { ZodBodyPipe } from '../access/zod-body.pipe.js';
import { jsonSchemaOf } from '../openapi/json-schema.js';
import { LLM_CONFIG_CLIENT, type LlmConfigClient } from '../upstreams/upstream-clients.js';
import { upstreamMetadata } from '../upstreams/upstream-metadata.js';
import { namespaceFromPath, recordUsageBody, usageEnvironmentOf, type RecordUsageBody } from './llm-config-requests.js';
import { usageViewOf, type UsageView } from './llm-config-views.js';

/**
 * LLM usage records (seed 001 §6.4): priced from pricing configs and added to the namespace's month-to-date spend.
 * Recording needs usage:record only (operators, developers in development, service accounts), so the key an LLM proxy
 * records with can be scoped to it.
 */
@ApiTags('budgets')
@ApiBearerAuth()
@ApiSecurity('apiKey')
@Controller('api/v1/usage')
export class UsageController {
  constructor(@Inject(LLM_CONFIG_CLIENT) private readonly llm: LlmConfigClient) {}

  @Post('*')
  @HttpCode(200)
  @RequirePermission('usage:record', { environment: usageEnvironmentOf })
  @ApiOperation({
    summary: 'Record the tokens of one LLM request; idempotent by request_id',
    description:
      'Takes {"request_id": unique per namespace, "provider", "model", "input_tokens", "output_tokens", "environment"? ' +
      '(production: whose pricing applies, and where usage:record is needed), "occurred_at"? (RFC 3339; its UTC month is the ' +
      'month it counts in), "failed"? (false; a failed LLM request costs its tokens but is not a successful request)}. The ' +
      'price is pricing.<provider> models.<model> of the namespace or its nearest ancestor (409 when none lists the model). ' +
      'Answers the record with "cost_usd", "failed", "duplicate" (the request_id was recorded before: nothing added; 409 if ' +
      'with other usage or another outcome) and "alerts": budget thresholds (80 %, 100 %) this record crossed, each announced ' +
      'once per namespace and month as config.budget_threshold_crossed.',
  })
  @ApiParam({ name: '*', example: 'acme/chatbot' })
  @ApiBody({ schema: jsonSchemaOf(recordUsageBody) })
  async record(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('*') path: string,
    @Body(new ZodBodyPipe(recordUsageBody)) body: RecordUsageBody,
  ): Promise<UsageView> {
    const response = await this.llm.recordUsage(
      {
        namespace: namespaceFromPath(path),
        requestId: body.request_id,
        provider: body.provider,
        model: body.model,
        inputTokens: BigInt(body.input_tokens),
        outputTokens: BigInt(body.output_tokens),
        environment: body.environment ?? '',
        occurredAt: body.occurred_at === undefined ? undefined : timestampFromDate(new Date(body.occurred_at)),
        failed: body.failed ?? false,
      },
      { metadata: upstreamMetadata(request, principal) },
    );
    return usageViewOf(response);
  }
}
