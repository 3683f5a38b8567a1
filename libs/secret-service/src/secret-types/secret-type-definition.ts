import { SecretException, SecretExceptionCode } from '../secrets/exceptions/secret.exception.js';
import type { MaskPlan } from './secret-mask.js';

export interface ParsedSecretValue {
  /** What gets encrypted and stored: the value normalised (e.g. JSON re-serialised with sorted keys, PEMs trimmed). */
  value: string;
  /** Non-secret facts shown on reads without reveal (strings/numbers/booleans only). */
  facts: Record<string, string | number | boolean>;
}

/** How one secret type validates its values and which of their fields survive masking. */
export interface SecretTypeDefinition {
  parse(value: string): ParsedSecretValue;
  /** Null for opaque values, which mask as a whole. */
  maskPlan: MaskPlan | null;
}

/** The one error every shape check throws; `message` must name the field, never echo its content. */
export function invalidValue(field: string, message: string): SecretException {
  return new SecretException(SecretExceptionCode.InvalidValue, message, field);
}
