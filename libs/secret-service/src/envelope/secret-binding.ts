/** Bound into every AEAD operation, so a sealed value only opens for the row it was written for. */
export interface SecretBinding {
  path: string;
  version: number;
}

/**
 * The additional authenticated data for a binding: a length-prefixed path then the version as a 64-bit integer, so
 * no two bindings share an encoding (plain concatenation would make ("a/b", 12) and ("a/b1", 2) the same bytes).
 */
export function encodeBinding(binding: SecretBinding): Buffer {
  if (binding.path.length === 0) {
    throw new RangeError('a secret binding needs a non-empty path');
  }
  if (!Number.isSafeInteger(binding.version) || binding.version < 1) {
    throw new RangeError(`secret ${binding.path}: version must be a positive integer, got ${binding.version}`);
  }
  const path = Buffer.from(binding.path, 'utf8');
  const aad = Buffer.alloc(4 + path.length + 8);
  aad.writeUInt32BE(path.length, 0);
  path.copy(aad, 4);
  aad.writeBigUInt64BE(BigInt(binding.version), 4 + path.length);
  return aad;
}

/** How errors name a binding: path and version only, never a value. */
export function describeBinding(binding: SecretBinding): string {
  return `secret ${binding.path} version ${binding.version}`;
}
