import { ConfigException, ConfigExceptionCode } from '../../configs/exceptions/config.exception.js';

/** Clocks differ; a usage record from further in the future than this is a mistake. */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;
const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** The first day of the UTC month, as the month columns hold it. */
export function monthOf(at: Date): string {
  return `${at.getUTCFullYear()}-${String(at.getUTCMonth() + 1).padStart(2, '0')}-01`;
}

/** `2026-01` → `2026-01-01`; anything but YYYY-MM is INVALID_ARGUMENT naming `month`. */
export function parseMonth(text: string): string {
  if (!MONTH.test(text)) throw new ConfigException(ConfigExceptionCode.InvalidValue, `month ${JSON.stringify(text)} must be YYYY-MM`, 'month');
  return `${text}-01`;
}

/** `2026-01-01` → `2026-01`. */
export function monthText(month: string): string {
  return month.slice(0, 7);
}

/** USD to the 10 decimal places cost_usd is stored with. */
export function roundUsd(value: number): number {
  return Math.round(value * 1e10) / 1e10;
}
