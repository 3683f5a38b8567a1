import type { KeyObject } from 'node:crypto';
import { keyIdOf, signTreeHead, type TreeHead } from '@llmops/platform-merkle';
import type { EntityManager } from 'typeorm';
import { AUDIT_SCHEMA } from '../migrations/1763800000000-CreateAuditLogs.js';

/**
 * Signs tree heads with the service's Ed25519 key. On start the key's public half is published in signing_keys and
 * every other key is marked retired, never deleted: heads signed by a rotated-out key stay verifiable.
 */
export class TreeHeadSigner {
  readonly keyId: string;

  constructor(
    private readonly signingKey: KeyObject,
    private readonly publicKey: KeyObject,
  ) {
    this.keyId = keyIdOf(publicKey);
  }

  sign(head: TreeHead): Buffer {
    return signTreeHead(head, this.signingKey);
  }

  async publish(manager: EntityManager): Promise<void> {
    const pem = this.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await manager.query(
      `INSERT INTO ${AUDIT_SCHEMA}.signing_keys (key_id, algorithm, public_key_pem) VALUES ($1, 'ed25519', $2)
       ON CONFLICT (key_id) DO UPDATE SET retired_at = NULL`,
      [this.keyId, pem],
    );
    await manager.query(
      `UPDATE ${AUDIT_SCHEMA}.signing_keys SET retired_at = now() WHERE key_id <> $1 AND retired_at IS NULL`,
      [this.keyId],
    );
  }
}
