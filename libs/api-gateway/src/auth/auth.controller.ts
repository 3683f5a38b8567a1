import { Body, Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { TokenPair } from '@llmops/platform-auth';
import { z } from 'zod';
import { Public } from '../access/access-policy.decorator.js';
import { ZodBodyPipe } from '../access/zod-body.pipe.js';
import { jsonSchemaOf } from '../openapi/json-schema.js';
import { AuthService } from './auth.service.js';
import { originOf } from './security-events.js';
import type { FastifyRequest } from 'fastify';

const loginBody = z.strictObject({
  email: z.email({ message: 'must be an email address' }).max(255),
  password: z.string().min(1, 'is required').max(1024),
});
const refreshBody = z.strictObject({ refresh_token: z.string().min(1, 'is required').max(8192) });

const tokenPairSchema = {
  type: 'object',
  required: ['access_token', 'refresh_token', 'token_type', 'expires_in'],
  properties: {
    access_token: { type: 'string' },
    refresh_token: { type: 'string' },
    token_type: { type: 'string', enum: ['Bearer'] },
    expires_in: { type: 'integer', description: 'seconds until the access token expires' },
  },
};

@ApiTags('auth')
@Controller('api/v1/auth')
export class AuthController {
  constructor(@Inject(AuthService) private readonly auth: AuthService) {}

  @Post('login')
  @HttpCode(200)
  @Public()
  @ApiOperation({ summary: 'Exchange email and password for an access and a refresh token (JWT RS256)' })
  @ApiBody({ schema: jsonSchemaOf(loginBody) })
  @ApiOkResponse({ schema: tokenPairSchema })
  login(@Req() request: FastifyRequest, @Body(new ZodBodyPipe(loginBody)) body: z.infer<typeof loginBody>): Promise<TokenPair> {
    return this.auth.login(body.email, body.password, originOf(request));
  }

  @Post('refresh')
  @HttpCode(200)
  @Public()
  @ApiOperation({ summary: 'Rotate a refresh token into a new token pair; a reused refresh token revokes its session' })
  @ApiBody({ schema: jsonSchemaOf(refreshBody) })
  @ApiOkResponse({ schema: tokenPairSchema })
  refresh(@Body(new ZodBodyPipe(refreshBody)) body: z.infer<typeof refreshBody>): Promise<TokenPair> {
    return this.auth.refresh(body.refresh_token);
  }
}
