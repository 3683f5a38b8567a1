import { status } from '@grpc/grpc-js';
import type { JsonValue } from '@bufbuild/protobuf';
import type { SecretService } from '@llmops/contracts';
import { GrpcCallError, type CallContext, type GrpcClient } from '@llmops/platform-grpc';

/** The marker a config value uses to point at a secret: `{"$secret": "<path>"}`, optionally with `"field"`. */
export const SECRET_REFERENCE_KEY = '$secret';
/** A value is a document, not a graph: references deeper than this are left alone. */
const MAX_DEPTH = 32;
const MAX_REFERENCES = 64;

export interface UnresolvedSecretReference {
  path: string;
  reason: string;
  message: string;
}

export interface ResolvedValue {
  value: JsonValue;
  unresolved: UnresolvedSecretReference[];
}

interface SecretReference {
  path: string;
  field?: string;
}

/**
 * Replaces `{"$secret": "acme/openai"}` (or `{"$secret": "acme/openai", "field": "key"}` to pick one field of a
 * structured secret) by the secret's plaintext. Secrets are read from secret-service as the caller, in the read's
 * environment, so secret-service decides and audits each reveal; a reference the caller may not reveal, or that does
 * not exist, stays as it is and is reported. Resolved values are never cached: the cache holds references only.
 */
export class SecretReferenceResolver {
  constructor(private readonly client: () => GrpcClient<typeof SecretService>) {}

  async resolve(value: JsonValue, environment: string, caller: CallContext): Promise<ResolvedValue> {
    const references: SecretReference[] = [];
    collect(value, references, 0);
    if (references.length === 0) return { value, unresolved: [] };
    if (references.length > MAX_REFERENCES) {
      return {
        value,
        unresolved: [{ path: '*', reason: 'INVALID_ARGUMENT', message: `a value may hold at most ${MAX_REFERENCES} secret references` }],
      };
    }
    const paths = [...new Set(references.map((reference) => reference.path))];
    const plaintexts = new Map<string, string>();
    const unresolved: UnresolvedSecretReference[] = [];
    await Promise.all(
      paths.map(async (path) => {
        try {
          const read = await this.client().getSecret({ path, environment, reveal: true }, { parent: caller });
          plaintexts.set(path, read.value);
        } catch (error) {
          unresolved.push(unresolvedOf(path, error));
        }
      }),
    );
    return { value: substitute(value, plaintexts, unresolved, 0), unresolved: unresolved.sort((a, b) => a.path.localeCompare(b.path)) };
  }
}

function referenceOf(value: JsonValue): SecretReference | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const path = value[SECRET_REFERENCE_KEY];
  if (typeof path !== 'string') return undefined;
  const keys = Object.keys(value);
  const field = value.field;
  if (keys.length === 1) return { path };
  if (keys.length === 2 && typeof field === 'string') return { path, field };
  return undefined;
}

function collect(value: JsonValue, into: SecretReference[], depth: number): void {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return;
  const reference = referenceOf(value);
  if (reference) {
    into.push(reference);
    return;
  }
  for (const inner of Array.isArray(value) ? value : Object.values(value)) collect(inner, into, depth + 1);
}

function substitute(value: JsonValue, plaintexts: Map<string, string>, unresolved: UnresolvedSecretReference[], depth: number): JsonValue {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return value;
  const reference = referenceOf(value);
  if (reference) {
    const plaintext = plaintexts.get(reference.path);
    if (plaintext === undefined) return value;
    if (reference.field === undefined) return plaintext;
    const picked = fieldOf(plaintext, reference.field);
    if (picked === undefined) {
      unresolved.push({ path: reference.path, reason: 'NOT_FOUND', message: `secret ${reference.path} has no field ${JSON.stringify(reference.field)}` });
      return value;
    }
    return picked;
  }
  if (Array.isArray(value)) return value.map((inner) => substitute(inner, plaintexts, unresolved, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, substitute(inner, plaintexts, unresolved, depth + 1)]));
}

/** One field of a structured secret (JSON object), e.g. `key` of an API key or `password` of database credentials. */
function fieldOf(plaintext: string, field: string): JsonValue | undefined {
  try {
    const parsed = JSON.parse(plaintext) as JsonValue;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || !Object.hasOwn(parsed, field)) return undefined;
    return parsed[field];
  } catch {
    return undefined;
  }
}

function unresolvedOf(path: string, error: unknown): UnresolvedSecretReference {
  if (error instanceof GrpcCallError) {
    const reason = status[error.code] ?? 'UNKNOWN';
    // Only the caller-facing statuses carry secret-service's message; anything else could say more than it should.
    const safe = error.code === status.PERMISSION_DENIED || error.code === status.NOT_FOUND || error.code === status.INVALID_ARGUMENT;
    return { path, reason, message: safe ? error.message : 'secret-service could not be reached; the reference was left in place' };
  }
  return { path, reason: 'UNKNOWN', message: 'the reference was left in place' };
}
