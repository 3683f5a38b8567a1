import { Body, Controller, Delete, Get, Inject, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiOperation, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@llmops/platform-auth';
import type { z } from 'zod';
import { CurrentPrincipal, RequirePermission, type AuthenticatedRequest } from '../access/access-policy.decorator.js';
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
  @RequirePermission('users:manage')
  @ApiOperation({ summary: 'Create a user who logs in with email and password (stored as an argon2id hash, never returned)' })
  @ApiBody({ schema: jsonSchemaOf(createUserBody) })
  @ApiCreatedResponse({ description: 'the new user' })
  create(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Body(new ZodBodyPipe(createUserBody)) body: z.infer<typeof createUserBody>,
  ): Promise<UserView> {
    return this.users.create(principal, body, originOf(request));
  }

  @Get()
  @RequirePermission('users:manage')
  @ApiOperation({ summary: 'List users, disabled ones included, ordered by id' })
  @ApiQuery({ name: 'limit', required: false, description: '1 to 1000, default 100' })
  @ApiQuery({ name: 'cursor', required: false, description: 'next_cursor of the previous page' })
  list(@Query() query: Record<string, unknown>): Promise<{ data: UserView[]; next_cursor: string | null }> {
    return this.users.list(parseQuery(listUsersQuery, query));
  }

  @Get(':id')
  @RequirePermission('users:manage')
  @ApiOperation({ summary: 'One user' })
  get(@Param('id') id: string): Promise<UserView> {
    return this.users.get(userIdOf(id));
  }

  @Delete(':id')
  @RequirePermission('users:manage')
  @ApiOperation({ summary: "Disable a user: logins fail, sessions are revoked, the user's tokens and API keys stop working" })
  disable(@Req() request: AuthenticatedRequest, @CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<UserView> {
    return this.users.disable(principal, userIdOf(id), originOf(request));
  }
}
