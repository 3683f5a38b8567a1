import type { ComplianceReportView } from './audit-log-views.js';

export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8';
/** The section of the report-wide row, counting every event of the range. */
export const ALL_EVENTS_SECTION = 'all';

/**
 * The report as RFC 4180 CSV (CRLF line ends): `section,kind,key,count`, one row per count. A total has no key;
 * `event_type` rows count one event type of the section, `actor` rows one of its top actors.
 */
export function complianceReportCsv(report: ComplianceReportView): string {
  const rows: Array<[string, string, string, number]> = [[ALL_EVENTS_SECTION, 'total', '', report.total_events]];
  for (const section of report.sections) {
    rows.push([section.name, 'total', '', section.total]);
    for (const { key, count } of section.by_event_type) rows.push([section.name, 'event_type', key, count]);
    for (const { key, count } of section.top_actors) rows.push([section.name, 'actor', key, count]);
  }
  const lines = [['section', 'kind', 'key', 'count'], ...rows].map((row) => row.map(csvCell).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * One CSV cell. Text a spreadsheet would run as a formula (leading = + - @, or tab / carriage return as OWASP adds)
 * gets a leading apostrophe; then the cell is quoted when it holds a comma, quote or line break (RFC 4180 §2).
 * Event types and actor ids come from callers, so a report must never carry a live formula.
 */
export function csvCell(value: string | number): string {
  if (typeof value === 'number') return String(value);
  const inert = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(inert) ? `"${inert.replaceAll('"', '""')}"` : inert;
}

/** `compliance-<from>-<to>.csv` with the range in ISO 8601 basic format, which has no characters a file name can't take. */
export function complianceCsvFilename(report: Pick<ComplianceReportView, 'from' | 'to'>): string {
  return `compliance-${basicIso(report.from)}-${basicIso(report.to)}.csv`;
}

/**
 * Whether the Accept header asks for CSV over JSON: text/csv listed with a higher quality than application/json, or
 * the same quality and listed first. Wildcards alone keep JSON, the API's default.
 */
export function acceptsCsvOverJson(accept: string | undefined): boolean {
  if (!accept) return false;
  const ranges = accept.split(',').map((range, position) => {
    const [type = '', ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    const quality = parameters.find((parameter) => parameter.startsWith('q='));
    const q = quality === undefined ? 1 : Number(quality.slice(2));
    return { type, q: Number.isFinite(q) ? q : 0, position };
  });
  const csv = ranges.find((range) => range.type === 'text/csv');
  const json = ranges.find((range) => range.type === 'application/json');
  if (!csv || csv.q <= 0) return false;
  return !json || csv.q > json.q || (csv.q === json.q && csv.position < json.position);
}

function basicIso(iso: string): string {
  return iso.replace(/\.000Z$/, 'Z').replaceAll('-', '').replaceAll(':', '');
}
