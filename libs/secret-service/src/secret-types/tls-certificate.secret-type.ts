import { X509Certificate } from 'node:crypto';
import { canonicalJson, JsonObjectReader, parseJsonObject } from './json-object-reader.js';
import { normalisePem, parsePrivateKeyPem, readPemBlocks } from './pem.js';
import { invalidValue, type SecretTypeDefinition } from './secret-type-definition.js';

/**
 * A leaf certificate (optionally followed by its chain) and the leaf's private key. Expired certificates are
 * accepted and flagged: storing the renewed one must not depend on the old one still being valid, and an
 * operator may need to keep an expired one while a client is migrated.
 */
export const tlsCertificateSecretType: SecretTypeDefinition = {
  parse(value) {
    const reader = new JsonObjectReader(parseJsonObject(value, '{certificate, private_key}'));
    reader.assertKnownFields(['certificate', 'private_key']);
    const certificateField = reader.path('certificate');
    const privateKeyField = reader.path('private_key');
    const chain = parseCertificateChain(reader.requiredString('certificate'), certificateField);
    const privateKeyPem = reader.requiredString('private_key');
    const privateKey = parsePrivateKeyPem(privateKeyPem, privateKeyField);
    const [leaf] = chain as [X509Certificate, ...X509Certificate[]];
    if (!leaf.checkPrivateKey(privateKey)) {
      throw invalidValue(privateKeyField, `${privateKeyField} does not match the certificate's public key`);
    }

    const notAfter = new Date(leaf.validTo);
    const facts: Record<string, string | number | boolean> = {
      subject: distinguishedName(leaf.subject),
      issuer: distinguishedName(leaf.issuer),
      serial: leaf.serialNumber,
      not_before: new Date(leaf.validFrom).toISOString(),
      not_after: notAfter.toISOString(),
      fingerprint_sha256: leaf.fingerprint256,
      key_algorithm: privateKey.asymmetricKeyType ?? 'unknown',
      chain_length: chain.length,
      expired: notAfter.getTime() < Date.now(),
    };
    if (leaf.subjectAltName !== undefined) {
      facts['subject_alt_names'] = leaf.subjectAltName;
    }
    const stored = {
      certificate: chain.map((certificate) => certificate.toString().trim()).join('\n'),
      private_key: normalisePem(privateKeyPem),
    };
    return { value: canonicalJson(stored), facts };
  },
  maskPlan: { certificate: 'keep' },
};

/** The leaf first, then each certificate's issuer; a chain out of order would fail TLS handshakes later. */
function parseCertificateChain(pem: string, field: string): X509Certificate[] {
  const blocks = readPemBlocks(pem);
  if (blocks.length === 0 || blocks.some((block) => block.label !== 'CERTIFICATE')) {
    throw invalidValue(field, `${field} is not a PEM certificate (expected one or more CERTIFICATE blocks)`);
  }
  const chain = blocks.map((block, index) => {
    try {
      return new X509Certificate(block.text);
    } catch {
      const which = index === 0 ? '' : ` (certificate ${index + 1} of the chain)`;
      throw invalidValue(field, `${field} is not a PEM certificate that parses${which}`);
    }
  });
  chain.slice(1).forEach((issuer, index) => {
    const subject = chain[index] as X509Certificate;
    if (!subject.checkIssued(issuer) || !subject.verify(issuer.publicKey)) {
      throw invalidValue(
        field,
        `${field}: certificate ${index + 2} of the chain did not issue certificate ${index + 1}; put the leaf first, then each issuer`,
      );
    }
  });
  return chain;
}

/** Node gives one attribute per line; facts are single-line strings. */
function distinguishedName(lines: string): string {
  return lines.split('\n').join(', ');
}
