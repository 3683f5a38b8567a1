import { Body, Controller, Delete, Get, Inject, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ROLES, type Principal } from '@llmops/platform-auth';
import { z } from 'zod';
import { CurrentPrincipal, RequirePermission, type AuthenticatedRequest } from '../access/access-policy.decorator.js';
import { originOf } from '../auth/security-events.js';
import { ZodBodyPipe } from '../access/zod-body.pipe.js';
import { jsonSchemaOf } from '../openapi/json-schema.js';
import { ApiKeysService, type ApiKeyView } from './api-keys.service.js';

const createApiKeyBody = z.strictObject({
  name: z.string().trim().min(1, 'is required').max(255),
  roles: z.array(z.enum(ROLES)).min(1).optional(),
  scopes: z.array(z.string().regex(/^[a-z-]+:[a-z-]+$/, 'must be a permission like configs:read')).optional(),
  expires_in_days: z.number().int().min(1).max(3650).optional(),
});

@ApiTags('api-keys')
@ApiBearerAuth()
@ApiSecurity('apiKey')
@Controller('api/v1/api-keys')
export class ApiKeysController {
  constructor(@Inject(ApiKeysService) private readonly apiKeys: ApiKeysService) {}

  @Post()
  @RequirePermission('api-keys:create')
  @ApiOperation({ summary: 'Create an API key; the key is returned once and never again' })
  @ApiBody({ schema: jsonSchemaOf(createApiKeyBody) })
  @ApiCreatedResponse({ description: 'the new key, including `key`' })
  create(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Body(new ZodBodyPipe(createApiKeyBody)) body: z.infer<typeof createApiKeyBody>,
  ): Promise<ApiKeyView & { key: string }> {
    return this.apiKeys.create(principal, {
      name: body.name,
      roles: body.roles,
      scopes: body.scopes as never,
      expiresInDays: body.expires_in_days,
    }, originOf(request));
  }

  @Get()
  @RequirePermission('api-keys:read')
  @ApiOperation({ summary: 'List your API keys (secrets are never returned)' })
  async list(@CurrentPrincipal() principal: Principal): Promise<{ data: ApiKeyView[] }> {
    return { data: await this.apiKeys.list(principal) };
  }

  @Delete(':id')
  @RequirePermission('api-keys:revoke')
  @ApiOperation({ summary: 'Revoke one of your API keys' })
  revoke(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
  ): Promise<ApiKeyView> {
    return this.apiKeys.revoke(principal, id, originOf(request));
  }
}
