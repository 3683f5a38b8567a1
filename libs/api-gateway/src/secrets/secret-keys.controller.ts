import { Body, Controller, Get, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@llmops/platform-auth';
import { CurrentPrincipal, RequirePermission, type AuthenticatedRequest } from '../access/access-policy.decorator.js';
import { ZodBodyPipe } from '../access/zod-body.pipe.js';
import { jsonSchemaOf } from '../openapi/json-schema.js';
import { SECRET_CLIENT, type SecretClient } from '../upstreams/upstream-clients.js';
import { upstreamMetadata } from '../upstreams/upstream-metadata.js';
import { minDecryptionVersionBody } from './secret-requests.js';
import { encryptionKeyStatusViewOf, type EncryptionKeyStatusView } from './secret-views.js';

/** The key-encryption keys that wrap every secret's data key: platform-wide, so no environment applies. */
@ApiTags('secrets')
@ApiBearerAuth()
@ApiSecurity('apiKey')
@Controller('api/v1/secret-keys')
export class SecretKeysController {
  constructor(@Inject(SECRET_CLIENT) private readonly secrets: SecretClient) {}

  @Get()
  @RequirePermission('secrets:rotate')
  @ApiOperation({ summary: 'Key-encryption key versions and how many data keys each still wraps' })
  async status(@Req() request: AuthenticatedRequest, @CurrentPrincipal() principal: Principal): Promise<EncryptionKeyStatusView> {
    const response = await this.secrets.getEncryptionKeyStatus({}, { metadata: upstreamMetadata(request, principal) });
    return encryptionKeyStatusViewOf(response.status);
  }

  @Post('rotate')
  @HttpCode(200)
  @RequirePermission('secrets:rotate')
  @ApiOperation({
    summary: 'Add a key-encryption key version: new data keys use it at once, existing ones are rewrapped in the background',
  })
  async rotate(@Req() request: AuthenticatedRequest, @CurrentPrincipal() principal: Principal): Promise<EncryptionKeyStatusView> {
    const response = await this.secrets.rotateEncryptionKey({}, { metadata: upstreamMetadata(request, principal) });
    return encryptionKeyStatusViewOf(response.status);
  }

  @Post('min-decryption-version')
  @HttpCode(200)
  @RequirePermission('secrets:rotate')
  @ApiOperation({ summary: 'Retire older key versions; refused (409) while any data key is still wrapped by one' })
  @ApiBody({ schema: jsonSchemaOf(minDecryptionVersionBody) })
  async setMinDecryptionVersion(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Body(new ZodBodyPipe(minDecryptionVersionBody)) body: { min_decryption_version: number },
  ): Promise<EncryptionKeyStatusView> {
    const response = await this.secrets.setMinDecryptionVersion(
      { minDecryptionVersion: body.min_decryption_version },
      { metadata: upstreamMetadata(request, principal) },
    );
    return encryptionKeyStatusViewOf(response.status);
  }
}
