import { describe, expect, it } from '@jest/globals';
import { SecretType } from '@llmops/contracts';
import { expectInvalidValue, leakedPart } from './testing/expect-invalid-value.js';
import { maskSecretValue, parseSecretValue } from './secret-value.js';

const ACCESS_TOKEN = 'ya29.a0AfH6SMBx7Qw2Er4Ty6Ui8Op0As3Df5Gh';
const REFRESH_TOKEN = '1//0gXq7Lk2Vb9Nw4Ty8Rc3Zm6Hd1Pf5Js0';

function parseToken(fields: Record<string, unknown>): ReturnType<typeof parseSecretValue> {
  return parseSecretValue(SecretType.OAUTH2_TOKEN, JSON.stringify(fields));
}

describe('OAUTH2_TOKEN secrets', () => {
  it('needs only an access token and stores token_type Bearer by default', () => {
    const parsed = parseToken({ access_token: ACCESS_TOKEN });

    expect(JSON.parse(parsed.value)).toEqual({ access_token: ACCESS_TOKEN, token_type: 'Bearer' });
    expect(parsed.facts).toEqual({ token_type: 'Bearer', has_refresh_token: false });
  });

  it('accepts every optional field and shows the non-secret ones as facts', () => {
    const parsed = parseToken({
      access_token: ACCESS_TOKEN,
      token_type: 'DPoP',
      refresh_token: REFRESH_TOKEN,
      expires_at: '2999-01-31T12:00:00+01:00',
      scope: 'openid email',
      client_id: 'client-123',
      token_endpoint: 'https://oauth2.example.test/token',
    });

    expect(parsed.facts).toEqual({
      token_type: 'DPoP',
      has_refresh_token: true,
      expires_at: '2999-01-31T12:00:00+01:00',
      expired: false,
      scope: 'openid email',
      client_id: 'client-123',
      token_endpoint: 'https://oauth2.example.test/token',
    });
  });

  it('accepts an access token that has expired and flags it, since the refresh token still works', () => {
    expect(parseToken({ access_token: ACCESS_TOKEN, refresh_token: REFRESH_TOKEN, expires_at: '2020-01-01T00:00:00Z' }).facts).toMatchObject({
      expired: true,
    });
  });

  it.each(['tomorrow', '2030-01-01', '2030-01-01T00:00:00', '2030-02-30T00:00:00Z', '2030-01-01T25:00:00Z', 1767225600])(
    'refuses expires_at %p that is not an RFC 3339 date-time',
    (expiresAt) => {
      expectInvalidValue(() => parseToken({ access_token: ACCESS_TOKEN, expires_at: expiresAt }), 'value.expires_at');
    },
  );

  it('refuses a missing, empty or whitespace-containing access token without quoting it', () => {
    expectInvalidValue(() => parseToken({ refresh_token: REFRESH_TOKEN }), 'value.access_token', [REFRESH_TOKEN]);
    expectInvalidValue(() => parseToken({ access_token: '   ' }), 'value.access_token');
    expectInvalidValue(() => parseToken({ access_token: `Bearer ${ACCESS_TOKEN}` }), 'value.access_token', [ACCESS_TOKEN]);
  });

  it('refuses a refresh token with whitespace without quoting it', () => {
    expectInvalidValue(() => parseToken({ access_token: ACCESS_TOKEN, refresh_token: `${REFRESH_TOKEN} x` }), 'value.refresh_token', [
      ACCESS_TOKEN,
      REFRESH_TOKEN,
    ]);
  });

  it('refuses a token endpoint that is not an http(s) URL', () => {
    expectInvalidValue(() => parseToken({ access_token: ACCESS_TOKEN, token_endpoint: 'oauth2.example.test/token' }), 'value.token_endpoint');
  });

  it('refuses an unknown field', () => {
    expectInvalidValue(() => parseToken({ access_token: ACCESS_TOKEN, id_token: 'eyJhbGciOi.payload.sig' }), 'value.id_token');
  });

  it('masks both tokens and keeps the rest', () => {
    const stored = parseToken({
      access_token: ACCESS_TOKEN,
      refresh_token: REFRESH_TOKEN,
      expires_at: '2999-01-01T00:00:00Z',
      client_id: 'client-123',
    }).value;

    const masked = maskSecretValue(SecretType.OAUTH2_TOKEN, stored);

    expect(JSON.parse(masked)).toEqual({
      access_token: 'ya2…f5Gh',
      refresh_token: '1//…5Js0',
      token_type: 'Bearer',
      expires_at: '2999-01-01T00:00:00Z',
      client_id: 'client-123',
    });
    expect(leakedPart(masked, ACCESS_TOKEN.slice(3, -4))).toBeUndefined();
    expect(leakedPart(masked, REFRESH_TOKEN.slice(3, -4))).toBeUndefined();
  });
});
