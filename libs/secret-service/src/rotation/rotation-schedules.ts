const HOUR = 3600;
const DAY = 24 * HOUR;

export interface RotationSchedule {
  rotationPeriodSeconds: number;
  /** How long the previous version stays valid after a rotation (the overlap). */
  gracePeriodSeconds: number;
}

/**
 * Defaults per secret type, from seed 001 §3.3 (OWASP): API keys 90 days with 7 days of overlap, database
 * credentials 30 days / 24 hours, TLS certificates 24 hours / 2 hours, OAuth tokens as service tokens (1 hour /
 * 5 minutes). JWT signing keys follow encryption keys (90 days) with a day of overlap so tokens signed just before a
 * rotation still verify. Types without an entry are not rotated unless a schedule is set.
 */
export const DEFAULT_ROTATION_SCHEDULES: Readonly<Record<string, RotationSchedule>> = {
  api_key: { rotationPeriodSeconds: 90 * DAY, gracePeriodSeconds: 7 * DAY },
  database_credentials: { rotationPeriodSeconds: 30 * DAY, gracePeriodSeconds: DAY },
  tls_certificate: { rotationPeriodSeconds: DAY, gracePeriodSeconds: 2 * HOUR },
  oauth2_token: { rotationPeriodSeconds: HOUR, gracePeriodSeconds: 5 * 60 },
  jwt_signing_key: { rotationPeriodSeconds: 90 * DAY, gracePeriodSeconds: DAY },
};
