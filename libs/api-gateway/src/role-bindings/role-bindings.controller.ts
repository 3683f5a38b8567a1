import { Body, Controller, Get, Inject, Param, Put, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@llmops/platform-auth';
import type { z } from 'zod';
import { CurrentPrincipal, RequirePermission, tenantOfCaller, type AuthenticatedRequest } from '../access/access-policy.decorator.js';
import { ZodBodyPipe } from '../access/zod-body.pipe.js';
import { originOf } from '../auth/security-events.js';
import { jsonSchemaOf } from '../openapi/json-schema.js';
import { apiKeyIdOf, roleBindingOf, roleBindingsBody, userIdOf } from './role-binding-requests.js';
import { viewOfBinding, type RoleBindingView } from './role-binding-views.js';
import { RoleBindingsService, type BindingHolder } from './role-bindings.service.js';

type RoleBindingsBody = z.infer<typeof roleBindingsBody>;

/**
 * The role bindings of users and API keys: read them, or replace the whole set (applied at the next request). A tenant
 * admin reaches its tenant's users and their keys only (the service checks each holder's tenant).
 */
@ApiTags('role-bindings')
@ApiBearerAuth()
@ApiSecurity('apiKey')
@Controller('api/v1')
export class RoleBindingsController {
  constructor(@Inject(RoleBindingsService) private readonly roleBindings: RoleBindingsService) {}

  @Get('users/:id/role-bindings')
  @RequirePermission('roles:manage', { tenant: tenantOfCaller })
  @ApiOperation({ summary: "A user's role bindings" })
  listOfUser(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
  ): Promise<{ bindings: RoleBindingView[] }> {
    return this.list(request, principal, { type: 'user', id: userIdOf(id) });
  }

  @Put('users/:id/role-bindings')
  @RequirePermission('roles:manage', { tenant: tenantOfCaller })
  @ApiOperation({ summary: "Replace a user's role bindings; access tokens issued before stop working" })
  @ApiBody({ schema: jsonSchemaOf(roleBindingsBody) })
  replaceOfUser(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body(new ZodBodyPipe(roleBindingsBody)) body: RoleBindingsBody,
  ): Promise<{ bindings: RoleBindingView[] }> {
    return this.replace(request, principal, { type: 'user', id: userIdOf(id) }, body);
  }

  @Get('api-keys/:id/role-bindings')
  @RequirePermission('roles:manage', { tenant: tenantOfCaller })
  @ApiOperation({ summary: "An API key's role bindings" })
  listOfApiKey(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
  ): Promise<{ bindings: RoleBindingView[] }> {
    return this.list(request, principal, { type: 'api_key', id: apiKeyIdOf(id) });
  }

  @Put('api-keys/:id/role-bindings')
  @RequirePermission('roles:manage', { tenant: tenantOfCaller })
  @ApiOperation({ summary: "Replace an API key's role bindings; applied from its next request" })
  @ApiBody({ schema: jsonSchemaOf(roleBindingsBody) })
  replaceOfApiKey(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body(new ZodBodyPipe(roleBindingsBody)) body: RoleBindingsBody,
  ): Promise<{ bindings: RoleBindingView[] }> {
    return this.replace(request, principal, { type: 'api_key', id: apiKeyIdOf(id) }, body);
  }

  private async list(request: AuthenticatedRequest, principal: Principal, holder: BindingHolder): Promise<{ bindings: RoleBindingView[] }> {
    return { bindings: (await this.roleBindings.list(principal, holder, originOf(request))).map(viewOfBinding) };
  }

  private async replace(
    request: AuthenticatedRequest,
    principal: Principal,
    holder: BindingHolder,
    body: RoleBindingsBody,
  ): Promise<{ bindings: RoleBindingView[] }> {
    const bindings = await this.roleBindings.replace(principal, holder, body.bindings.map(roleBindingOf), originOf(request));
    return { bindings: bindings.map(viewOfBinding) };
  }
}
