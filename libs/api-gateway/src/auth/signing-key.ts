import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface SigningKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
  generated: boolean;
}

/**
 * The JWT signing key: from the environment in production; on embedded defaults, generated once and kept in the
 * data directory (mode 0600) so tokens stay valid across restarts.
 */
export async function loadSigningKey(options: {
  privateKeyPem?: string;
  publicKeyPem?: string;
  dataDir: string;
}): Promise<SigningKeyPair> {
  if (options.privateKeyPem && options.publicKeyPem) {
    return { privateKeyPem: options.privateKeyPem, publicKeyPem: options.publicKeyPem, generated: false };
  }
  const privatePath = join(options.dataDir, 'jwt-signing-key.pem');
  const publicPath = join(options.dataDir, 'jwt-signing-key.pub.pem');
  try {
    return {
      privateKeyPem: await readFile(privatePath, 'utf8'),
      publicKeyPem: await readFile(publicPath, 'utf8'),
      generated: false,
    };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  await mkdir(dirname(privatePath), { recursive: true });
  await writeFile(privatePath, privateKey, { mode: 0o600 });
  await writeFile(publicPath, publicKey, { mode: 0o644 });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey, generated: true };
}
