import { createHmac } from 'node:crypto';
import { canonicalJson } from '@llmops/platform-merkle';

export const HMAC_PREFIX = 'hmac-sha256:';

/**
 * Keeps sensitive detail values out of the log while keeping them searchable, as Vault's audit devices do: a field
 * whose name is listed (at any depth, case-insensitive) is stored as `hmac-sha256:<hex>` of its value. Strings are
 * hashed as their UTF-8 bytes; other values as their canonical JSON. An operator who knows a value can hash it
 * (HashDetailValue) and search for it; the log never holds the value itself.
 */
export class SensitiveDetailHasher {
  private readonly fields: Set<string>;

  constructor(
    private readonly key: Buffer,
    fields: readonly string[],
  ) {
    this.fields = new Set(fields.map((field) => field.toLowerCase()));
  }

  isSensitive(field: string): boolean {
    return this.fields.has(field.toLowerCase());
  }

  hashValue(value: unknown): string {
    const bytes = typeof value === 'string' ? value : canonicalJson(value);
    return HMAC_PREFIX + createHmac('sha256', this.key).update(bytes, 'utf8').digest('hex');
  }

  hashDetails(details: Record<string, unknown>): Record<string, unknown> {
    return this.walk(details) as Record<string, unknown>;
  }

  private walk(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((item) => this.walk(item));
    if (value === null || typeof value !== 'object') return value;
    const hashed: Record<string, unknown> = {};
    for (const [field, inner] of Object.entries(value)) {
      hashed[field] = this.isSensitive(field) && inner !== null ? this.hashValue(inner) : this.walk(inner);
    }
    return hashed;
  }
}
