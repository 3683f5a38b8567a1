import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query, Req, Res, UseFilters } from '@nestjs/common';
import { ApiBody, ApiExcludeEndpoint, ApiHeader, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { SecretType } from '@llmops/contracts';
import type { Principal } from '@llmops/platform-auth';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal, Public, RequirePermission, type AuthenticatedRequest } from '../access/access-policy.decorator.js';
import { ZodBodyPipe } from '../access/zod-body.pipe.js';
import { jsonSchemaOf } from '../openapi/json-schema.js';
import { SECRET_CLIENT, type SecretClient } from '../upstreams/upstream-clients.js';
import { upstreamMetadata } from '../upstreams/upstream-metadata.js';
import { VaultErrorFilter } from './vault-error.filter.js';
import {
  isListRequest,
  vaultEnvironmentOf,
  vaultFolderOf,
  vaultReadVersionOf,
  vaultSecretRefOf,
  vaultVersionsBody,
  vaultWriteBody,
  type VaultVersionsBody,
  type VaultWriteBody,
} from './vault-requests.js';
import {
  vaultEnvelope,
  vaultKeysOf,
  vaultMetadataOf,
  vaultReadOf,
  vaultValueOf,
  vaultWriteOf,
  type VaultEnvelope,
  type VaultSecretData,
  type VaultSecretMetadata,
  type VaultVersionMetadata,
} from './vault-responses.js';

const writeBodyPipe = new ZodBodyPipe(vaultWriteBody);
const versionsBodyPipe = new ZodBodyPipe(vaultVersionsBody);

const pathParam = {
  name: '*',
  description: 'the environment, then the secret path: production/acme/db is acme/db in production',
  example: 'production/acme/db',
};

/** What /v1/sys/health answers: an unsealed, active, initialized server. */
export interface VaultHealth {
  initialized: true;
  sealed: false;
  standby: false;
  performance_standby: false;
  server_time_utc: number;
  version: string;
}

/**
 * A HashiCorp Vault KV v2 subset at /v1/secret/, so Vault clients pointed at the gateway work: the first path segment
 * is the environment, the token (X-Vault-Token) is an API key, and a write is a generic secret holding its data map
 * as JSON. Reads return values, as Vault does, so they need secrets:reveal (decided by secret-service, which records
 * a refusal against the secret).
 */
@ApiTags('vault')
@ApiHeader({ name: 'X-Vault-Token', required: false, description: 'an API key (sys/health needs none)' })
@Controller('v1')
@UseFilters(VaultErrorFilter)
export class VaultController {
  constructor(@Inject(SECRET_CLIENT) private readonly secrets: SecretClient) {}

  @Get('sys/health')
  @Public()
  @ApiOperation({ summary: "Vault's health check: always active and unsealed (there is no seal)" })
  health(): VaultHealth {
    return {
      initialized: true,
      sealed: false,
      standby: false,
      performance_standby: false,
      server_time_utc: Math.floor(Date.now() / 1000),
      version: '1.15.0+llmops',
    };
  }

  @Get('secret/data/*')
  // Reveal is secret-service's decision, so that a refusal is recorded with the secret it was for.
  @RequirePermission('secrets:read', { environment: vaultEnvironmentOf })
  @ApiOperation({ summary: 'Read a version (?version=n, the current one by default) with its data map' })
  @ApiParam(pathParam)
  @ApiQuery({ name: 'version', required: false, schema: { type: 'integer', minimum: 0 } })
  async read(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('*') wildcard: string,
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<VaultEnvelope<VaultSecretData>> {
    noStore(reply);
    const { environment, path } = vaultSecretRefOf(wildcard);
    const version = vaultReadVersionOf(query);
    const response = await this.secrets.getSecret(
      { path, environment, version: BigInt(version), reveal: true },
      { metadata: upstreamMetadata(request, principal) },
    );
    return vaultEnvelope(String(request.id), vaultReadOf(response));
  }

  @Post('secret/data/*')
  @HttpCode(200)
  @RequirePermission('secrets:write', { environment: vaultEnvironmentOf })
  @ApiOperation({ summary: 'Write a new version: {"data": {…}, "options": {"cas": n}?}' })
  @ApiParam(pathParam)
  @ApiBody({ schema: jsonSchemaOf(vaultWriteBody) })
  async write(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('*') wildcard: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<VaultEnvelope<VaultVersionMetadata>> {
    noStore(reply);
    const { environment, path } = vaultSecretRefOf(wildcard);
    const { data, options }: VaultWriteBody = writeBodyPipe.transform(body);
    const response = await this.secrets.setSecret(
      {
        path,
        environment,
        type: SecretType.GENERIC,
        value: vaultValueOf(data),
        expectedVersion: options?.cas === undefined ? undefined : BigInt(options.cas),
      },
      { metadata: upstreamMetadata(request, principal) },
    );
    return vaultEnvelope(String(request.id), vaultWriteOf(response));
  }

  /** Vault takes PUT and POST alike for writes (its CLI sends PUT). */
  @Put('secret/data/*')
  @ApiExcludeEndpoint()
  @RequirePermission('secrets:write', { environment: vaultEnvironmentOf })
  async writeByPut(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('*') wildcard: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<VaultEnvelope<VaultVersionMetadata>> {
    return this.write(request, principal, wildcard, body, reply);
  }

  @Delete('secret/data/*')
  @HttpCode(204)
  @RequirePermission('secrets:write', { environment: vaultEnvironmentOf })
  @ApiOperation({ summary: 'Soft-delete the current version' })
  @ApiParam(pathParam)
  async deleteLatest(@Req() request: AuthenticatedRequest, @CurrentPrincipal() principal: Principal, @Param('*') wildcard: string): Promise<void> {
    await this.secrets.deleteSecretVersions({ ...vaultSecretRefOf(wildcard), versions: [] }, { metadata: upstreamMetadata(request, principal) });
  }

  @Post('secret/delete/*')
  @HttpCode(204)
  @RequirePermission('secrets:write', { environment: vaultEnvironmentOf })
  @ApiOperation({ summary: 'Soft-delete versions: {"versions": [n, …]}' })
  @ApiParam(pathParam)
  @ApiBody({ schema: jsonSchemaOf(vaultVersionsBody) })
  async deleteVersions(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('*') wildcard: string,
    @Body() body: unknown,
  ): Promise<void> {
    const { versions }: VaultVersionsBody = versionsBodyPipe.transform(body);
    await this.secrets.deleteSecretVersions(
      { ...vaultSecretRefOf(wildcard), versions: versions.map(BigInt) },
      { metadata: upstreamMetadata(request, principal) },
    );
  }

  @Post('secret/undelete/*')
  @HttpCode(204)
  @RequirePermission('secrets:write', { environment: vaultEnvironmentOf })
  @ApiOperation({ summary: 'Restore soft-deleted versions: {"versions": [n, …]}' })
  @ApiParam(pathParam)
  @ApiBody({ schema: jsonSchemaOf(vaultVersionsBody) })
  async undeleteVersions(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('*') wildcard: string,
    @Body() body: unknown,
  ): Promise<void> {
    const { versions }: VaultVersionsBody = versionsBodyPipe.transform(body);
    await this.secrets.undeleteSecretVersions(
      { ...vaultSecretRefOf(wildcard), versions: versions.map(BigInt) },
      { metadata: upstreamMetadata(request, principal) },
    );
  }

  @Post('secret/destroy/*')
  @HttpCode(204)
  @RequirePermission('secrets:write', { environment: vaultEnvironmentOf })
  @ApiOperation({ summary: "Erase versions' values for good: {\"versions\": [n, …]}" })
  @ApiParam(pathParam)
  @ApiBody({ schema: jsonSchemaOf(vaultVersionsBody) })
  async destroyVersions(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('*') wildcard: string,
    @Body() body: unknown,
  ): Promise<void> {
    const { versions }: VaultVersionsBody = versionsBodyPipe.transform(body);
    await this.secrets.destroySecretVersions(
      { ...vaultSecretRefOf(wildcard), versions: versions.map(BigInt) },
      { metadata: upstreamMetadata(request, principal) },
    );
  }

  @Get('secret/metadata/*')
  @RequirePermission('secrets:read', { environment: vaultEnvironmentOf })
  @ApiOperation({ summary: 'A secret\'s metadata and versions; with ?list=true, the keys under a folder (Vault\'s LIST)' })
  @ApiParam({ ...pathParam, description: `${pathParam.description}; with list=true, <environment>/<folder>/` })
  @ApiQuery({ name: 'list', required: false, description: 'true lists the folder instead' })
  async metadata(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('*') wildcard: string,
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<VaultEnvelope<VaultSecretMetadata | { keys: string[] }>> {
    noStore(reply);
    const metadata = upstreamMetadata(request, principal);
    if (isListRequest(query)) {
      const response = await this.secrets.listSecrets(vaultFolderOf(wildcard), { metadata });
      return vaultEnvelope(String(request.id), vaultKeysOf(response));
    }
    const response = await this.secrets.describeSecret(vaultSecretRefOf(wildcard), { metadata });
    return vaultEnvelope(String(request.id), vaultMetadataOf(response));
  }

  @Delete('secret/metadata/*')
  @HttpCode(204)
  @RequirePermission('secrets:write', { environment: vaultEnvironmentOf })
  @ApiOperation({ summary: 'Erase the secret with every version and its metadata' })
  @ApiParam(pathParam)
  async deleteSecret(@Req() request: AuthenticatedRequest, @CurrentPrincipal() principal: Principal, @Param('*') wildcard: string): Promise<void> {
    await this.secrets.deleteSecret(vaultSecretRefOf(wildcard), { metadata: upstreamMetadata(request, principal) });
  }
}

function noStore(reply: FastifyReply): void {
  void reply.header('cache-control', 'no-store');
}
