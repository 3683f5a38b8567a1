import { Controller, Get, Inject, Param, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@llmops/platform-auth';
import { CurrentPrincipal, RequirePermission, type AuthenticatedRequest } from '../access/access-policy.decorator.js';
import { LLM_CONFIG_CLIENT, type LlmConfigClient } from '../upstreams/upstream-clients.js';
import { upstreamMetadata } from '../upstreams/upstream-metadata.js';
import { monthQueryOf, namespaceFromPath, pricingEnvironmentQueryOf } from './llm-config-requests.js';
import { costReportViewOf, type CostReportView } from './llm-config-views.js';

/**
 * A month's LLM cost report per namespace (seed 001 §6.4): cost per request and per successful request, spend per
 * model and the endpoints that call it, the same tokens priced on every other model, and cheaper models to consider.
 * It covers the usage of every environment, so it needs what reading a budget needs: configs:read in every environment.
 */
@ApiTags('budgets')
@ApiBearerAuth()
@ApiSecurity('apiKey')
@Controller('api/v1/costs')
export class CostsController {
  constructor(@Inject(LLM_CONFIG_CLIENT) private readonly llm: LlmConfigClient) {}

  @Get('*')
  @RequirePermission('configs:read')
  @ApiOperation({
    summary: "A month's LLM costs in a namespace and below, by model, with cheaper models to consider (cost only)",
    description:
      'Answers {"namespace", "month", "environment", "totals", "models", "recommendations", "min_saving_percent": 20}. Figures are ' +
      '{"requests", "failed_requests", "input_tokens", "output_tokens", "cost_usd", "cost_per_request_usd", ' +
      '"cost_per_successful_request_usd" (all of the cost, failed requests\' included, over the successful ones; null without ' +
      'one)}. "models" (highest spend first) are {"provider", "model", "figures", "endpoints": the namespace\'s endpoint configs ' +
      'calling it, [{"name", "environment"}], "alternatives": the same tokens on every other model its pricing lists, cheapest ' +
      'first, [{"provider", "model", "cost_usd", "difference_usd"}]}. A recommendation names the cheapest alternative when it ' +
      'would have saved at least min_saving_percent of the spend: {"provider", "model", "alternative_provider", ' +
      '"alternative_model", "cost_usd", "alternative_cost_usd", "saving_usd", "saving_percent", "summary"}. Only cost is ' +
      'compared; answer quality is not measured.',
  })
  @ApiParam({ name: '*', example: 'acme/chatbot' })
  @ApiQuery({ name: 'month', required: false, description: 'YYYY-MM (UTC); the current month when absent; a month that has not begun is refused' })
  @ApiQuery({ name: 'environment', required: false, description: 'whose pricing prices the alternatives; production when absent (usage of every environment counts)' })
  async get(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('*') path: string,
    @Query('month') month: unknown,
    @Query('environment') environment: unknown,
  ): Promise<CostReportView> {
    const response = await this.llm.getCostReport(
      { namespace: namespaceFromPath(path), month: monthQueryOf(month), environment: pricingEnvironmentQueryOf(environment) },
      { metadata: upstreamMetadata(request, principal) },
    );
    return costReportViewOf(response);
  }
}
