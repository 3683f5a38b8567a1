import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiParam, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { JsonObject } from '@bufbuild/protobuf';
import type { Principal } from '@llmops/platform-auth';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { CurrentPrincipal, environmentFromQuery, RequirePermission, type AuthenticatedRequest } from '../access/access-policy.decorator.js';
import { ZodBodyPipe } from '../access/zod-body.pipe.js';
import { optionalBigInt, requiredEnv, versionFromIfMatch } from '../configs/config-requests.js';
import { jsonSchemaOf } from '../openapi/json-schema.js';
import { SECRET_CLIENT, type SecretClient } from '../upstreams/upstream-clients.js';
import { upstreamMetadata } from '../upstreams/upstream-metadata.js';
import {
  parseDeleteQuery,
  parseReadQuery,
  readTargetOf,
  RESERVED_SEGMENTS,
  secretTypeOf,
  secretValueOf,
  setSecretBody,
  versionsBody,
  writePermissionOf,
  writeTargetOf,
  type SetSecretBody,
} from './secret-requests.js';
import {
  secretDescriptionViewOf,
  secretListingViewOf,
  secretMetadataViewOf,
  secretRotationViewOf,
  secretValueViewOf,
  type SecretDescriptionView,
  type SecretListingView,
  type SecretMetadataView,
  type SecretRotationView,
  type SecretValueView,
  type SecretVersionsChangeView,
} from './secret-views.js';

const setBodyPipe = new ZodBodyPipe(setSecretBody);
const versionsBodyPipe = new ZodBodyPipe(versionsBody);

const pathParam = {
  name: '*',
  description: `the secret path, e.g. acme/db/password; ${RESERVED_SEGMENTS.join(', ')} are reserved as its last segment`,
  example: 'acme/db/password',
};
const envQuery = { name: 'env', required: true, description: 'environment: development, staging, production, …' };

/**
 * Secrets through the REST API (seed 001 §7.1). Every answer carries Cache-Control: no-store: a revealed read holds
 * the plaintext, and the rest describes secrets, which no shared cache should keep either.
 */
@ApiTags('secrets')
@ApiBearerAuth()
@ApiSecurity('apiKey')
@Controller('api/v1/secrets')
export class SecretsController {
  constructor(@Inject(SECRET_CLIENT) private readonly secrets: SecretClient) {}

  @Get('*')
  // Reveal is decided by secret-service, not here: it records the refusal with the secret's path and environment
  // (seed 001 §9.3), which the gateway's own denial record, keyed by route, cannot name.
  @RequirePermission('secrets:read', { environment: environmentFromQuery })
  @ApiOperation({
    summary: 'Read a secret (masked unless reveal=true), …/<path>/versions for every version\'s state, or …/<folder>/ to list a folder',
    description:
      'reveal=true returns the plaintext in "value" and needs secrets:reveal in env; a refusal is 403 and is recorded in ' +
      'the audit log as secret.access_denied. A path ending in "/" (or nothing, for the top level) lists the secrets ' +
      'directly in that folder and the folders below it.',
  })
  @ApiParam({ ...pathParam, description: `${pathParam.description}; append /versions for the versions, or end with / to list a folder` })
  @ApiQuery(envQuery)
  @ApiQuery({ name: 'reveal', required: false, description: 'true returns the plaintext (needs secrets:reveal)' })
  @ApiQuery({ name: 'version', required: false, description: 'read this version instead of the current one', schema: { type: 'integer', minimum: 1 } })
  async get(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('*') wildcard: string,
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SecretValueView | SecretDescriptionView | SecretListingView> {
    noStore(reply);
    const environment = requiredEnv(query.env);
    const metadata = upstreamMetadata(request, principal);
    const target = readTargetOf(wildcard);
    if (target.kind === 'list') {
      const response = await this.secrets.listSecrets({ folder: target.folder, environment }, { metadata });
      return secretListingViewOf(target.folder, environment, response);
    }
    if (target.action === 'versions') {
      return secretDescriptionViewOf(await this.secrets.describeSecret({ path: target.path, environment }, { metadata }));
    }
    const { reveal, version } = parseReadQuery(query);
    const response = await this.secrets.getSecret({ path: target.path, environment, reveal, version: BigInt(version ?? 0) }, { metadata });
    return secretValueViewOf(response);
  }

  @Post('*')
  @HttpCode(200)
  @RequirePermission(writePermissionOf, { environment: environmentFromQuery })
  @ApiOperation({
    summary: 'Write a new version of a secret (201 when it creates the secret); or …/<path>/rotate, …/undelete, …/destroy',
    description:
      'A write takes {"type", "value", "labels"?, "expected_version"?, "max_versions"?, "cas_required"?, ' +
      '"rotation_period_seconds"?, "grace_period_seconds"?} and answers the metadata, never the value; If-Match may carry ' +
      'expected_version (409 when it is not the current version). rotate (secrets:rotate) answers the new version with ' +
      'previous_version and previous_valid_until. undelete and destroy (secrets:write) take {"versions": [n, …]} and ' +
      'answer the versions they changed; destroy erases the values for good.',
  })
  @ApiParam({ ...pathParam, description: `${pathParam.description}; append /rotate, /undelete or /destroy for those actions` })
  @ApiQuery(envQuery)
  @ApiHeader({ name: 'If-Match', required: false, description: 'write only: the expected current version, e.g. "3" (0: the secret must not exist)' })
  @ApiBody({ schema: jsonSchemaOf(z.union([setSecretBody, versionsBody])), required: false })
  async post(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('*') wildcard: string,
    @Query('env') env: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SecretMetadataView | SecretRotationView | SecretVersionsChangeView> {
    noStore(reply);
    const environment = requiredEnv(env);
    const metadata = upstreamMetadata(request, principal);
    const { path, action } = writeTargetOf(wildcard);
    switch (action) {
      case 'rotate':
        return secretRotationViewOf(await this.secrets.rotateSecret({ path, environment }, { metadata }));
      case 'undelete': {
        const { versions } = versionsBodyPipe.transform(body);
        const response = await this.secrets.undeleteSecretVersions({ path, environment, versions: versions.map(BigInt) }, { metadata });
        return { path, environment, versions: response.versions.map(Number) };
      }
      case 'destroy': {
        const { versions } = versionsBodyPipe.transform(body);
        const response = await this.secrets.destroySecretVersions({ path, environment, versions: versions.map(BigInt) }, { metadata });
        return { path, environment, versions: response.versions.map(Number) };
      }
      case undefined: {
        const written = await this.write(path, environment, setBodyPipe.transform(body), ifMatch, metadata);
        if (written.version === 1) void reply.status(201);
        return written;
      }
    }
  }

  private async write(
    path: string,
    environment: string,
    body: SetSecretBody,
    ifMatch: string | undefined,
    metadata: Record<string, string>,
  ): Promise<SecretMetadataView> {
    const response = await this.secrets.setSecret(
      {
        path,
        environment,
        type: secretTypeOf(body.type),
        value: secretValueOf(body.value),
        labels: body.labels as JsonObject | undefined,
        expectedVersion: optionalBigInt(body.expected_version ?? versionFromIfMatch(ifMatch)),
        maxVersions: body.max_versions,
        casRequired: body.cas_required,
        rotationPeriodSeconds: optionalBigInt(body.rotation_period_seconds),
        gracePeriodSeconds: optionalBigInt(body.grace_period_seconds),
      },
      { metadata },
    );
    return secretMetadataViewOf(response.metadata);
  }

  @Delete('*')
  @RequirePermission('secrets:write', { environment: environmentFromQuery })
  @ApiOperation({
    summary: 'Soft-delete versions (the current one unless versions=1,2 names them), or purge=true to erase the secret',
    description:
      'Soft-deleted versions can be undeleted with POST …/<path>/undelete. purge=true erases the secret, every version ' +
      'and its metadata for good, and answers "purged": true.',
  })
  @ApiParam(pathParam)
  @ApiQuery(envQuery)
  @ApiQuery({ name: 'versions', required: false, description: 'comma-separated versions to soft-delete, e.g. 1,2' })
  @ApiQuery({ name: 'purge', required: false, description: 'true erases the secret with all its versions and metadata' })
  async delete(
    @Req() request: AuthenticatedRequest,
    @CurrentPrincipal() principal: Principal,
    @Param('*') path: string,
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SecretVersionsChangeView | { path: string; environment: string; purged: true }> {
    noStore(reply);
    const environment = requiredEnv(query.env);
    const metadata = upstreamMetadata(request, principal);
    const { purge, versions } = parseDeleteQuery(query);
    if (purge) {
      await this.secrets.deleteSecret({ path, environment }, { metadata });
      return { path, environment, purged: true };
    }
    const response = await this.secrets.deleteSecretVersions({ path, environment, versions: (versions ?? []).map(BigInt) }, { metadata });
    return { path, environment, versions: response.versions.map(Number) };
  }
}

function noStore(reply: FastifyReply): void {
  void reply.header('cache-control', 'no-store');
}
