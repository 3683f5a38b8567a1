import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { HealthRegistry } from '@llmops/platform-observability';
import type { FastifyReply } from 'fastify';
import type { Registry } from 'prom-client';
import { Operations } from '../access/access-policy.decorator.js';

export const GATEWAY_HEALTH = Symbol('GATEWAY_HEALTH');
export const GATEWAY_METRICS = Symbol('GATEWAY_METRICS');

/** Liveness, readiness (each dependency checked with its own timeout) and Prometheus metrics. */
@ApiExcludeController()
@Controller()
export class OperationsController {
  constructor(
    @Inject(GATEWAY_HEALTH) private readonly health: HealthRegistry,
    @Inject(GATEWAY_METRICS) private readonly registry: Registry,
  ) {}

  @Get('health/live')
  @Operations()
  live(): { status: 'ok' } {
    return this.health.live();
  }

  @Get('health/ready')
  @Operations()
  async ready(@Res() reply: FastifyReply): Promise<void> {
    const report = await this.health.ready();
    await reply.status(report.status === 'unavailable' ? 503 : 200).send(report);
  }

  @Get('metrics')
  @Operations()
  @Header('cache-control', 'no-store')
  async metrics(@Res() reply: FastifyReply): Promise<void> {
    await reply.header('content-type', this.registry.contentType).send(await this.registry.metrics());
  }
}
