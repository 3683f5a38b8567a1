import { create, type JsonObject, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  type EncryptionKeyStatusSchema,
  SecretMetadataSchema,
  SecretService,
  SecretVersionSchema,
  type SecretMetadata,
  type SecretVersion,
} from '@llmops/contracts';
import { principalFromMetadata } from '@llmops/platform-auth';
import type { CallContext, ServiceImplementation } from '@llmops/platform-grpc';
import type { EncryptionKeys, EncryptionKeyStatus } from '../key-management/encryption-keys.js';
import type { SecretRotation } from '../rotation/secret-rotation.js';
import { SecretException, SecretExceptionCode } from './exceptions/secret.exception.js';
import type { SecretActor } from './secret-access.js';
import type { SecretRecord, SecretVersionRecord } from './secret-records.js';
import type { SecretsService } from './secrets.service.js';

/** SecretService over gRPC: decode, call the service, encode. */
export class SecretsGrpcController {
  constructor(
    private readonly secrets: SecretsService,
    private readonly rotation: SecretRotation,
    private readonly keys: EncryptionKeys,
  ) {}

  implementation(): ServiceImplementation<typeof SecretService> {
    return {
      getSecret: async (request, ctx) => {
        const read = await this.secrets.get(actorOf(ctx), {
          path: request.path,
          environment: request.environment,
          version: Number(request.version),
          reveal: request.reveal,
        });
        return {
          metadata: metadataOf(read.secret, read.version),
          value: read.value,
          revealed: read.revealed,
          version: versionToProto(read.version),
        };
      },
      setSecret: async (request, ctx) => {
        const written = await this.secrets.set(actorOf(ctx), {
          path: request.path,
          environment: request.environment,
          type: request.type,
          value: request.value,
          labels: request.labels,
          expectedVersion: request.expectedVersion === undefined ? undefined : Number(request.expectedVersion),
          maxVersions: request.maxVersions,
          casRequired: request.casRequired,
          rotationPeriodSeconds: request.rotationPeriodSeconds === undefined ? undefined : Number(request.rotationPeriodSeconds),
          gracePeriodSeconds: request.gracePeriodSeconds === undefined ? undefined : Number(request.gracePeriodSeconds),
        });
        return { metadata: metadataOf(written.secret, written.version) };
      },
      rotateSecret: async (request, ctx) => {
        const rotated = await this.rotation.rotate(actorOf(ctx), { path: request.path, environment: request.environment });
        return {
          metadata: metadataOf(rotated.secret, rotated.version),
          previousVersion: BigInt(rotated.previousVersion),
          previousValidUntil: rotated.previousValidUntil ? timestampFromDate(rotated.previousValidUntil) : undefined,
        };
      },
      listSecrets: async (request, ctx) => {
        const listing = await this.secrets.list(actorOf(ctx), { folder: request.folder, environment: request.environment });
        return {
          secrets: listing.secrets.map(({ secret, version }) => metadataOf(secret, version)),
          folders: listing.folders,
        };
      },
      describeSecret: async (request, ctx) => {
        const description = await this.secrets.describe(actorOf(ctx), { path: request.path, environment: request.environment });
        const current = description.versions.find((version) => version.version === description.secret.currentVersion);
        return { metadata: metadataOf(description.secret, current), versions: description.versions.map(versionToProto) };
      },
      deleteSecretVersions: async (request, ctx) => ({
        versions: (await this.secrets.deleteVersions(actorOf(ctx), refOf(request), request.versions.map(Number))).map(BigInt),
      }),
      undeleteSecretVersions: async (request, ctx) => ({
        versions: (await this.secrets.undeleteVersions(actorOf(ctx), refOf(request), request.versions.map(Number))).map(BigInt),
      }),
      destroySecretVersions: async (request, ctx) => ({
        versions: (await this.secrets.destroyVersions(actorOf(ctx), refOf(request), request.versions.map(Number))).map(BigInt),
      }),
      deleteSecret: async (request, ctx) => {
        await this.secrets.deleteSecret(actorOf(ctx), refOf(request));
        return {};
      },
      getJwks: async (request) => ({ jwks: JSON.stringify(await this.secrets.jwks(refOf(request))) }),
      getEncryptionKeyStatus: async (_request, ctx) => ({ status: keyStatusToProto(await this.keys.status(actorOf(ctx))) }),
      rotateEncryptionKey: async (_request, ctx) => ({ status: keyStatusToProto(await this.keys.rotate(actorOf(ctx))) }),
      setMinDecryptionVersion: async (request, ctx) => ({
        status: keyStatusToProto(await this.keys.setMinDecryptionVersion(actorOf(ctx), request.minDecryptionVersion)),
      }),
    };
  }
}

function refOf(request: { path: string; environment: string }): { path: string; environment: string } {
  return { path: request.path, environment: request.environment };
}

export function actorOf(ctx: CallContext): SecretActor {
  const principal = principalFromMetadata(ctx.metadata);
  if (!principal) throw new SecretException(SecretExceptionCode.Unauthenticated, 'the call carries no authenticated principal');
  return { principal, requestId: ctx.requestId, ip: ctx.metadata['x-actor-ip'], userAgent: ctx.metadata['x-actor-user-agent'] };
}

function metadataOf(secret: SecretRecord, version?: SecretVersionRecord): SecretMetadata {
  return create(SecretMetadataSchema, {
    path: secret.path,
    environment: secret.environment,
    type: secret.type,
    version: BigInt(version?.version ?? 0),
    currentVersion: BigInt(secret.currentVersion),
    labels: secret.labels as JsonObject,
    facts: version ? (version.facts as JsonObject) : undefined,
    createdAt: timestampFromDate(secret.createdAt),
    updatedAt: timestampFromDate(secret.updatedAt),
    createdBy: secret.createdBy,
    nextRotationAt: secret.nextRotationAt ? timestampFromDate(secret.nextRotationAt) : undefined,
    maxVersions: secret.maxVersions,
    casRequired: secret.casRequired,
    rotationPeriodSeconds: BigInt(secret.rotationPeriodSeconds ?? 0),
    gracePeriodSeconds: BigInt(secret.gracePeriodSeconds ?? 0),
  });
}

function versionToProto(version: SecretVersionRecord): SecretVersion {
  return create(SecretVersionSchema, {
    version: BigInt(version.version),
    createdAt: timestampFromDate(version.createdAt),
    createdBy: version.createdBy,
    deletedAt: version.deletedAt ? timestampFromDate(version.deletedAt) : undefined,
    destroyed: version.destroyedAt !== null,
    validUntil: version.validUntil ? timestampFromDate(version.validUntil) : undefined,
    kekVersion: version.kekVersion ?? 0,
    revokedAt: version.revokedAt ? timestampFromDate(version.revokedAt) : undefined,
  });
}

function keyStatusToProto(status: EncryptionKeyStatus): MessageInitShape<typeof EncryptionKeyStatusSchema> {
  return {
    provider: status.provider,
    currentVersion: status.currentVersion,
    minDecryptionVersion: status.minDecryptionVersion,
    versions: status.versions,
    dataKeysOnOlderVersions: BigInt(status.dataKeysOnOlderVersions),
    dataKeysByVersion: Object.fromEntries(Object.entries(status.dataKeysByVersion).map(([version, count]) => [version, BigInt(count)])),
  };
}
