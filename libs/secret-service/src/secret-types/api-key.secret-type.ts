import { canonicalJson, JsonObjectReader, parseJsonObject, type JsonObject } from './json-object-reader.js';
import { invalidValue, type SecretTypeDefinition } from './secret-type-definition.js';

export const API_KEY_PROVIDERS = [
  'openai',
  'anthropic',
  'azure_openai',
  'google',
  'cohere',
  'mistral',
  'aws_bedrock',
  'huggingface',
  'custom',
] as const;

/** These providers have no fixed endpoint, so a key without one cannot be used. */
const PROVIDERS_NEEDING_BASE_URL: readonly string[] = ['azure_openai', 'custom'];

export const apiKeySecretType: SecretTypeDefinition = {
  parse(value) {
    const reader = new JsonObjectReader(parseJsonObject(value, '{provider, key, …}'));
    reader.assertKnownFields(['provider', 'key', 'organization', 'project', 'base_url', 'scopes']);
    const provider = reader.requiredOneOf('provider', API_KEY_PROVIDERS);
    const key = reader.requiredString('key', { noWhitespace: true });
    const organization = reader.optionalString('organization');
    const project = reader.optionalString('project');
    const baseUrl = reader.optionalUrl('base_url');
    const scopes = reader.optionalStringArray('scopes');
    if (baseUrl === undefined && PROVIDERS_NEEDING_BASE_URL.includes(provider)) {
      throw invalidValue(reader.path('base_url'), `${reader.path('base_url')} is required for provider ${provider}`);
    }

    const stored: JsonObject = { provider, key };
    const facts: Record<string, string> = { provider };
    if (organization !== undefined) stored['organization'] = facts['organization'] = organization;
    if (project !== undefined) stored['project'] = facts['project'] = project;
    if (baseUrl !== undefined) stored['base_url'] = facts['base_url'] = baseUrl;
    if (scopes !== undefined) {
      stored['scopes'] = scopes;
      facts['scopes'] = scopes.join(' ');
    }
    return { value: canonicalJson(stored), facts };
  },
  maskPlan: { provider: 'keep', organization: 'keep', project: 'keep', base_url: 'keep', scopes: 'keep' },
};
