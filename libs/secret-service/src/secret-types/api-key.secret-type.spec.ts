import { describe, expect, it } from '@jest/globals';
import { SecretType } from '@llmops/contracts';
import { expectInvalidValue, leakedPart } from './testing/expect-invalid-value.js';
import { maskSecretValue, parseSecretValue } from './secret-value.js';

const KEY = 'sk-proj-4fGh8JkLmNoPqRsTuVwX9xQz';

function parseApiKey(fields: Record<string, unknown>): ReturnType<typeof parseSecretValue> {
  return parseSecretValue(SecretType.API_KEY, JSON.stringify(fields));
}

describe('API_KEY secrets', () => {
  it('stores the fields as JSON with sorted keys and shows the non-secret ones as facts', () => {
    const parsed = parseApiKey({ scopes: ['chat', 'embeddings'], key: KEY, provider: 'openai', organization: 'org-1', project: 'proj-1' });

    expect(parsed.value).toBe(
      `{"key":"${KEY}","organization":"org-1","project":"proj-1","provider":"openai","scopes":["chat","embeddings"]}`,
    );
    expect(parsed.facts).toEqual({ provider: 'openai', organization: 'org-1', project: 'proj-1', scopes: 'chat embeddings' });
  });

  it('needs only provider and key, and drops optional fields given as null', () => {
    expect(parseApiKey({ provider: 'anthropic', key: KEY, organization: null }).value).toBe(`{"key":"${KEY}","provider":"anthropic"}`);
  });

  it('refuses an unknown provider, naming the allowed ones', () => {
    const message = expectInvalidValue(() => parseApiKey({ provider: 'acme', key: KEY }), 'value.provider', [KEY]);

    expect(message).toBe(
      'value.provider must be one of: openai, anthropic, azure_openai, google, cohere, mistral, aws_bedrock, huggingface, custom',
    );
  });

  it('refuses a missing, empty, non-string or whitespace-containing key without quoting it', () => {
    expectInvalidValue(() => parseApiKey({ provider: 'openai' }), 'value.key');
    expectInvalidValue(() => parseApiKey({ provider: 'openai', key: '' }), 'value.key');
    expectInvalidValue(() => parseApiKey({ provider: 'openai', key: 12345678 }), 'value.key');
    expectInvalidValue(() => parseApiKey({ provider: 'openai', key: `${KEY}\n` }), 'value.key', [KEY]);
  });

  it('requires base_url for providers without a fixed endpoint', () => {
    expectInvalidValue(() => parseApiKey({ provider: 'custom', key: KEY }), 'value.base_url');
    expectInvalidValue(() => parseApiKey({ provider: 'azure_openai', key: KEY }), 'value.base_url');
    expect(parseApiKey({ provider: 'custom', key: KEY, base_url: 'https://llm.internal/v1' }).facts['base_url']).toBe(
      'https://llm.internal/v1',
    );
  });

  it('refuses a base_url that is not an http(s) URL or carries credentials, without quoting them', () => {
    expectInvalidValue(() => parseApiKey({ provider: 'openai', key: KEY, base_url: 'not a url' }), 'value.base_url');
    expectInvalidValue(() => parseApiKey({ provider: 'openai', key: KEY, base_url: 'ftp://files.example.test' }), 'value.base_url');
    const message = expectInvalidValue(
      () => parseApiKey({ provider: 'openai', key: KEY, base_url: 'https://user:Pa55word-Leak@llm.example.test' }),
      'value.base_url',
      ['Pa55word-Leak'],
    );
    expect(message).toBe('value.base_url must not contain credentials');
  });

  it('refuses scopes that are not an array of strings', () => {
    expectInvalidValue(() => parseApiKey({ provider: 'openai', key: KEY, scopes: 'chat' }), 'value.scopes');
    expectInvalidValue(() => parseApiKey({ provider: 'openai', key: KEY, scopes: ['chat', 3] }), 'value.scopes');
  });

  it('refuses a field it does not know, since it would not know whether to mask it', () => {
    expectInvalidValue(() => parseApiKey({ provider: 'openai', key: KEY, secondary_key: KEY }), 'value.secondary_key', [KEY]);
  });

  it('masks the key with a hint and keeps the other fields', () => {
    const stored = parseApiKey({ provider: 'openai', key: KEY, organization: 'org-1', scopes: ['chat'] }).value;

    const masked = maskSecretValue(SecretType.API_KEY, stored);

    expect(JSON.parse(masked)).toEqual({ provider: 'openai', key: 'sk-…9xQz', organization: 'org-1', scopes: ['chat'] });
    expect(leakedPart(masked.replace('sk-…9xQz', ''), KEY)).toBeUndefined();
  });
});
