import { Body, Controller, Get, Inject, Param, Put, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@llmops/platform-auth';
import { CurrentPrincipal, RequirePermission, type AuthenticatedRequest } from '../access/access-policy.decorator.js';
import { ZodBodyPipe } from '../access/zod-body.pipe.js';
import { jsonSchemaOf } from '../openapi/json-schema.js';
import { LLM_CONFIG_CLIENT, type LlmConfigClient } from '../upstreams/upstream-clients.js';
import { upstreamMetadata } from '../upstreams/upstream-metadata.js';
import { monthQueryOf, namespaceFromPath, putBudgetBody, type PutBudgetBody } from './llm-config-requests.js';
import { budgetReportViewOf, budgetViewOf, type BudgetReportView, type BudgetView } from './llm-config-views.js';

/**
 * Monthly LLM budgets per namespace (seed 001 §6.4). A budget covers its namespace and every namespace below it and
 * has no environment, so reading one needs configs:read in every environment and setting one configs:write in every
 * environment.
 */
@ApiTags('budgets')
@ApiBearerAuth()
@ApiSecurity('apiKey')
@Controller('api/v1/budgets')
export class BudgetsController {
  constructor(@Inject(LLM_CONFIG_CLIENT) private readonly llm: LlmConfigClient) {}

  @Get('*')
  @RequirePermission('configs:read')
  @ApiOperation({
    summary: "A month's spend against the budgets that cover a namespace",
    description:
      'Answers {"namespace", "month": "YYYY-MM", "spend_usd": the month\'s spend in the namespace and below, "budget": its own ' +
      'budget or null, "inherited_budgets": ancestors\' budgets, most specific first}; a budget is {"namespace", "monthly_usd", ' +
      '"spend_usd", "remaining_usd" (negative when exceeded), "used_ratio", "thresholds_crossed": [0.8, 1]}.',
  })
  @ApiParam({ name: '*', example: 'acme/chatbot' })
  @ApiQuery({ name: 'month', required: false, description: 'YYYY-MM (UTC); the current month when absent' })
  async get(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('*') path: string,
    @Query('month') month: unknown,
  ): Promise<BudgetReportView> {
    const response = await this.llm.getBudget({ namespace: namespaceFromPath(path), month: monthQueryOf(month) }, { metadata: upstreamMetadata(request, principal) });
    return budgetReportViewOf(response);
  }

  @Put('*')
  @RequirePermission('configs:write')
  @ApiOperation({
    summary: "Set a namespace's monthly budget in USD (check-and-set with expected_version; 0 = it has none yet)",
    description:
      'Answers {"namespace", "monthly_usd", "version", "updated_by", "updated_at"}. When this month\'s spend already reaches 80 % ' +
      'or 100 % of the new budget, config.budget_threshold_crossed is announced at once (once per namespace, month and threshold).',
  })
  @ApiParam({ name: '*', example: 'acme/chatbot' })
  @ApiBody({ schema: jsonSchemaOf(putBudgetBody) })
  async put(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('*') path: string,
    @Body(new ZodBodyPipe(putBudgetBody)) body: PutBudgetBody,
  ): Promise<BudgetView> {
    const response = await this.llm.setBudget(
      {
        namespace: namespaceFromPath(path),
        monthlyUsd: body.monthly_usd,
        expectedVersion: body.expected_version === undefined ? undefined : BigInt(body.expected_version),
      },
      { metadata: upstreamMetadata(request, principal) },
    );
    return budgetViewOf(response.budget);
  }
}
