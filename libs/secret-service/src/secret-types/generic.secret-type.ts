import { invalidValue, type SecretTypeDefinition } from './secret-type-definition.js';

/** Opaque: stored exactly as given, masked as a whole, no facts (even the length would say something). */
export const genericSecretType: SecretTypeDefinition = {
  parse(value) {
    if (value.length === 0) {
      throw invalidValue('value', 'value must not be empty');
    }
    return { value, facts: {} };
  },
  maskPlan: null,
};
