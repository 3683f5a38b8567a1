import { Body, Controller, Delete, Get, Inject, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiOperation, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@llmops/platform-auth';
import type { z } from 'zod';
import { CurrentPrincipal, RequirePermission, tenantOfCaller, type AuthenticatedRequest } from '../access/access-policy.decorator.js';
import { ZodBodyPipe } from '../access/zod-body.pipe.js';
import { parseQuery } from '../audit-logs/audit-log-requests.js';
import { originOf } from '../auth/security-events.js';
import { jsonSchemaOf } from '../openapi/json-schema.js';
import { userIdOf } from '../role-bindings/role-binding-requests.js';
import { createUserBody, listUsersQuery } from './user-requests.js';
import { UsersService, type UserView } from './users.service.js';

@ApiTags('users')
@ApiBearerAuth()
@ApiSecurity('apiKey')
@Controller('api/v1/users')
export class UsersController {
  constructor(@Inject(UsersService) private readonly users: UsersService) {}

  @Post()
  @RequirePermission('users:manage', { tenant: tenantOfCaller })
  @ApiOperation({
    summary: 'Create a user who logs in with email and password (stored as an argon2id hash, never returned)',
    description: "tenant_id: the user's tenant, for good; omitted, the caller's own (none for a platform-wide admin).",
  })
  @ApiBody({ schema: jsonSchemaOf(createUserBody) })
  @ApiCreatedResponse({ description: 'the new user' })
  create(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Body(new ZodBodyPipe(createUserBody)) body: z.infer<typeof createUserBody>,
  ): Promise<UserView> {
    return this.users.create(
      principal,
      { email: body.email, password: body.password, roles: body.roles, tenantId: body.tenant_id },
      originOf(request),
    );
  }

  @Get()
  @RequirePermission('users:manage', { tenant: tenantOfCaller })
  @ApiOperation({ summary: "List users, disabled ones included, ordered by id; a tenant admin sees its tenant's only" })
  @ApiQuery({ name: 'limit', required: false, description: '1 to 1000, default 100' })
  @ApiQuery({ name: 'cursor', required: false, description: 'next_cursor of the previous page' })
  @ApiQuery({ name: 'tenant_id', required: false, description: "only this tenant's users" })
  list(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Query() query: Record<string, unknown>,
  ): Promise<{ data: UserView[]; next_cursor: string | null }> {
    const { limit, cursor, tenant_id: tenantId } = parseQuery(listUsersQuery, query);
    return this.users.list(principal, { limit, cursor, tenantId }, originOf(request));
  }

  @Get(':id')
  @RequirePermission('users:manage', { tenant: tenantOfCaller })
  @ApiOperation({ summary: 'One user' })
  get(@Req() request: AuthenticatedRequest, @CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<UserView> {
    return this.users.get(principal, userIdOf(id), originOf(request));
  }

  @Delete(':id')
  @RequirePermission('users:manage', { tenant: tenantOfCaller })
  @ApiOperation({ summary: "Disable a user: logins fail, sessions are revoked, the user's tokens and API keys stop working" })
  disable(@Req() request: AuthenticatedRequest, @CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<UserView> {
    return this.users.disable(principal, userIdOf(id), originOf(request));
  }
}
