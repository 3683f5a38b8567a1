import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeKey } from './audit-service.env.js';

export interface AuditKeyMaterial {
  /** Ed25519 key signing tree heads. */
  signingKey: KeyObject;
  publicKey: KeyObject;
  /** HMAC-SHA256 key for sensitive detail fields. */
  hmacKey: Buffer;
  /** Which keys were generated into the data directory on this start. */
  generated: string[];
}

/**
 * The audit log's keys: from the environment in production; on embedded defaults, generated once into the data
 * directory (mode 0600) so tree heads keep one key and stored HMACs stay searchable across restarts.
 */
export async function loadAuditKeyMaterial(options: {
  signingKeyPem?: string;
  hmacKey?: string;
  dataDir: string;
}): Promise<AuditKeyMaterial> {
  const generated: string[] = [];
  const signingKeyPem =
    options.signingKeyPem ??
    (await readOrCreate(join(options.dataDir, 'audit-signing-key.pem'), () => {
      generated.push('signing key');
      return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    }));
  const signingKey = createPrivateKey(signingKeyPem);
  if (signingKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`AUDIT_SIGNING_KEY must be an Ed25519 key, got ${signingKey.asymmetricKeyType ?? 'a symmetric key'}`);
  }
  const hmacKey = decodeKey(
    options.hmacKey ??
      (await readOrCreate(join(options.dataDir, 'audit-hmac.key'), () => {
        generated.push('HMAC key');
        return randomBytes(32).toString('hex');
      })),
  );
  return { signingKey, publicKey: createPublicKey(signingKey), hmacKey, generated };
}

async function readOrCreate(path: string, create: () => string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const content = create();
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, content, { mode: 0o600, flag: 'wx' }).catch(async (error: NodeJS.ErrnoException) => {
    // Another process of the same data directory created it first: use theirs.
    if (error.code !== 'EEXIST') throw error;
  });
  return readFile(path, 'utf8');
}
