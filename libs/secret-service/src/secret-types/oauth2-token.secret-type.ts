import { canonicalJson, JsonObjectReader, parseJsonObject, type JsonObject } from './json-object-reader.js';
import type { SecretTypeDefinition } from './secret-type-definition.js';

const DEFAULT_TOKEN_TYPE = 'Bearer';

/**
 * An OAuth 2.0 token (RFC 6749 §5.1 field names). An expired access token is accepted and flagged: with a
 * refresh token it is still useful, and the rotator stores the refreshed one.
 */
export const oauth2TokenSecretType: SecretTypeDefinition = {
  parse(value) {
    const reader = new JsonObjectReader(
      parseJsonObject(value, '{access_token, token_type?, refresh_token?, expires_at?, scope?, client_id?, token_endpoint?}'),
    );
    reader.assertKnownFields(['access_token', 'token_type', 'refresh_token', 'expires_at', 'scope', 'client_id', 'token_endpoint']);
    const accessToken = reader.requiredString('access_token', { noWhitespace: true });
    const tokenType = reader.optionalString('token_type', { noWhitespace: true }) ?? DEFAULT_TOKEN_TYPE;
    const refreshToken = reader.optionalString('refresh_token', { noWhitespace: true });
    const expiresAt = reader.optionalRfc3339('expires_at');
    const scope = reader.optionalString('scope');
    const clientId = reader.optionalString('client_id', { noWhitespace: true });
    const tokenEndpoint = reader.optionalUrl('token_endpoint');

    const stored: JsonObject = { access_token: accessToken, token_type: tokenType };
    const facts: Record<string, string | boolean> = { token_type: tokenType, has_refresh_token: refreshToken !== undefined };
    if (refreshToken !== undefined) stored['refresh_token'] = refreshToken;
    if (expiresAt !== undefined) {
      stored['expires_at'] = facts['expires_at'] = expiresAt.text;
      facts['expired'] = expiresAt.instant.getTime() < Date.now();
    }
    if (scope !== undefined) stored['scope'] = facts['scope'] = scope;
    if (clientId !== undefined) stored['client_id'] = facts['client_id'] = clientId;
    if (tokenEndpoint !== undefined) stored['token_endpoint'] = facts['token_endpoint'] = tokenEndpoint;
    return { value: canonicalJson(stored), facts };
  },
  maskPlan: { token_type: 'keep', expires_at: 'keep', scope: 'keep', client_id: 'keep', token_endpoint: 'keep' },
};
