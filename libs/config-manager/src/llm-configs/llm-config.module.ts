import { Module, type DynamicModule } from '@nestjs/common';
import type { Outbox } from '@llmops/platform-messaging';
import type { Database } from '@llmops/platform-persistence';
import type { ConfigsService } from '../configs/configs.service.js';
import { BudgetsService } from './budgets/budgets.service.js';
import { GetCostReport } from './costs/get-cost-report.usecase.js';
import { LlmConfigGrpcController } from './llm-config.grpc-controller.js';
import { LlmConfigsService } from './llm-configs.service.js';
import { PromptsService } from './prompts/prompts.service.js';

/**
 * LLM-specific configuration (seed 001 §6) on top of the configs capability: typed configs are written and read
 * through its ConfigsService; prompts and budgets keep their own tables in the same database and outbox.
 */
@Module({})
export class LlmConfigModule {
  static register(dependencies: { configs: ConfigsService; database: Database; outbox: Outbox }): DynamicModule {
    return {
      module: LlmConfigModule,
      providers: [
        { provide: LlmConfigsService, useValue: new LlmConfigsService(dependencies.configs) },
        { provide: PromptsService, useValue: new PromptsService(dependencies.database, dependencies.outbox) },
        {
          provide: BudgetsService,
          useFactory: (llmConfigs: LlmConfigsService) => new BudgetsService(dependencies.database, dependencies.outbox, llmConfigs),
          inject: [LlmConfigsService],
        },
        {
          provide: GetCostReport,
          useFactory: (llmConfigs: LlmConfigsService) => new GetCostReport(dependencies.database, llmConfigs),
          inject: [LlmConfigsService],
        },
        {
          provide: LlmConfigGrpcController,
          useFactory: (llmConfigs: LlmConfigsService, prompts: PromptsService, budgets: BudgetsService, costReport: GetCostReport) =>
            new LlmConfigGrpcController(llmConfigs, prompts, budgets, costReport),
          inject: [LlmConfigsService, PromptsService, BudgetsService, GetCostReport],
        },
      ],
      exports: [LlmConfigGrpcController],
    };
  }
}
