import { createPrivateKey, KeyObject } from 'node:crypto';
import { invalidValue } from './secret-type-definition.js';

export interface PemBlock {
  label: string;
  /** The block alone, BEGIN to END line, with LF line endings. */
  text: string;
}

const PEM_BLOCK_PATTERN = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g;

/** The PEM blocks in a text, in order; text between blocks (e.g. OpenSSL's "Bag Attributes") is dropped. */
export function readPemBlocks(text: string): PemBlock[] {
  return Array.from(text.matchAll(PEM_BLOCK_PATTERN), (match) => ({
    label: match[1] as string,
    text: match[0].replace(/\r\n/g, '\n'),
  }));
}

/**
 * Parses an unencrypted PEM private key (PKCS#8, PKCS#1 or SEC1). Encrypted keys are refused: the service
 * would need the passphrase to use them, and it would then be a second secret stored beside the first.
 */
export function parsePrivateKeyPem(pem: string, field: string): KeyObject {
  const blocks = readPemBlocks(pem);
  const [block] = blocks;
  if (blocks.length !== 1 || block === undefined || !block.label.endsWith('PRIVATE KEY')) {
    throw invalidValue(field, `${field} is not a PEM private key`);
  }
  if (block.label === 'ENCRYPTED PRIVATE KEY' || block.text.includes('Proc-Type: 4,ENCRYPTED')) {
    throw invalidValue(field, `${field} is encrypted; store the key without a passphrase`);
  }
  try {
    return createPrivateKey({ key: block.text, format: 'pem' });
  } catch {
    throw invalidValue(field, `${field} is not a PEM private key that parses`);
  }
}

/** The stored form of a single-block PEM field: the block alone, LF line endings, no surrounding text. */
export function normalisePem(pem: string): string {
  return readPemBlocks(pem)
    .map((block) => block.text)
    .join('\n');
}
