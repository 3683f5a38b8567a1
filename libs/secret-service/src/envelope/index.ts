export { AwsKmsKeyProvider } from './aws-kms-key-provider.js';
export { EnvelopeCipher, type SealedSecret } from './envelope-cipher.js';
export type { KeyEncryptionProvider } from './key-encryption-provider.js';
export { KEYRING_FILE_NAME, LocalKeyring } from './local-keyring.js';
export type { SecretBinding } from './secret-binding.js';
