import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { PRINCIPAL_METADATA } from '@llmops/platform-auth';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../access/access-policy.decorator.js';
import { SECRET_CLIENT, type SecretClient } from '../upstreams/upstream-clients.js';

/**
 * Spares secret-service a verifier's every request, yet a key added by a rotation (which signs at once) reaches
 * verifiers that do not refetch on an unknown kid within a minute.
 */
export const JWKS_MAX_AGE_SECONDS = 60;

/** A JSON Web Key Set as RFC 7517 defines it; the keys are public. */
export interface JsonWebKeySet {
  keys: unknown[];
}

@ApiTags('secrets')
@Controller('api/v1/jwks')
export class JwksController {
  constructor(@Inject(SECRET_CLIENT) private readonly secrets: SecretClient) {}

  @Get(':env/*')
  // Public keys only, fetched by token verifiers that hold no credentials, as any JWKS URL is.
  @Public()
  @ApiOperation({
    summary: 'The public keys of a jwt_signing_key secret: the current version and, during a rotation overlap, the previous one',
  })
  @ApiParam({ name: 'env', description: 'the environment of the secret', example: 'production' })
  @ApiParam({ name: '*', description: 'the path of a jwt_signing_key secret', example: 'acme/auth/signing-key' })
  async jwks(
    @Req() request: FastifyRequest,
    @Param('env') environment: string,
    @Param('*') path: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JsonWebKeySet> {
    const response = await this.secrets.getJwks(
      { path, environment },
      { metadata: { [PRINCIPAL_METADATA.requestId]: String(request.id) } },
    );
    void reply.header('content-type', 'application/json').header('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
    return JSON.parse(response.jwks) as JsonWebKeySet;
  }
}
