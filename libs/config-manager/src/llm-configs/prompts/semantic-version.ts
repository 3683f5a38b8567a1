import { ConfigException, ConfigExceptionCode } from '../../configs/exceptions/config.exception.js';

/** MAJOR.MINOR.PATCH without a prerelease or build part: prompt versions are released, never drafts. */
export interface SemanticVersion {
  major: number;
  minor: number;
  patch: number;
}

const SEMANTIC_VERSION = /^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})$/;

export function parseSemanticVersion(text: string, field = 'version'): SemanticVersion {
  const match = SEMANTIC_VERSION.exec(text);
  if (!match) throw new ConfigException(ConfigExceptionCode.InvalidValue, `${field} ${JSON.stringify(text)} must be a semantic version MAJOR.MINOR.PATCH, e.g. 1.2.3`, field);
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]) };
}

export function isSemanticVersion(text: string): boolean {
  return SEMANTIC_VERSION.test(text);
}

export function compareSemanticVersions(a: SemanticVersion, b: SemanticVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

export function formatSemanticVersion(version: SemanticVersion): string {
  return `${version.major}.${version.minor}.${version.patch}`;
}
