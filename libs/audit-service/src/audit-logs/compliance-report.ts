import type { Database } from '@llmops/platform-persistence';
import { AUDIT_SCHEMA } from '../migrations/1763800000000-CreateAuditLogs.js';
import { AuditException, AuditExceptionCode } from './exceptions/audit.exception.js';

/** The report's sections (seed 001 §9.3's logged events) and the event types each one counts. */
export const COMPLIANCE_SECTIONS = [
  { name: 'authentication_failures', patterns: ['auth.%failed', 'auth.%failure'] },
  { name: 'authorization_denied', patterns: ['authz.denied', '%.access_denied', '%.policy_violation'] },
  { name: 'permission_changes', patterns: ['api_key.%', 'role.%', 'role_binding.%', 'permission.%', 'user.%'] },
  { name: 'secret_access', patterns: ['secret.%'] },
  { name: 'configuration_changes', patterns: ['config.created', 'config.updated', 'config.deleted', 'config.rolled_back', 'config.restored', 'config.settings_changed'] },
] as const;

export interface ComplianceCount {
  key: string;
  count: number;
}

export interface ComplianceSection {
  name: string;
  total: number;
  byEventType: ComplianceCount[];
  topActors: ComplianceCount[];
}

export interface ComplianceReport {
  from: Date;
  to: Date;
  totalEvents: number;
  sections: ComplianceSection[];
}

const TOP_ACTORS = 10;
const MAX_RANGE_MS = 366 * 24 * 60 * 60 * 1000;

/** Counts of the security-relevant events of a time range, per section, event type and actor. */
export class ComplianceReporter {
  constructor(private readonly database: Database) {}

  async report(from: Date, to: Date): Promise<ComplianceReport> {
    if (!(from.getTime() < to.getTime())) {
      throw new AuditException(AuditExceptionCode.InvalidQuery, 'from must be before to', 'from');
    }
    if (to.getTime() - from.getTime() > MAX_RANGE_MS) {
      throw new AuditException(AuditExceptionCode.InvalidQuery, 'a report covers at most 366 days', 'to');
    }
    const params: string[] = [from.toISOString(), to.toISOString()];
    const parameter = (value: string): string => `$${params.push(value)}`;
    const cases = COMPLIANCE_SECTIONS.map(
      (section) => `WHEN ${section.patterns.map((pattern) => `event_type LIKE ${parameter(pattern)}`).join(' OR ')} THEN '${section.name}'`,
    ).join('\n');
    const rows = (await this.database.dataSource.query(
      `WITH ranged AS (
         SELECT event_type, coalesce(actor_id, '(' || actor_type || ')') AS actor, CASE ${cases} END AS section
           FROM ${AUDIT_SCHEMA}.audit_logs WHERE created_at >= $1 AND created_at < $2
       )
       SELECT 'total' AS kind, NULL AS section, NULL AS key, count(*) AS count FROM ranged
       UNION ALL
       SELECT 'type', section, event_type, count(*) FROM ranged WHERE section IS NOT NULL GROUP BY section, event_type
       UNION ALL
       SELECT 'actor', section, actor, count FROM (
         SELECT section, actor, count(*) AS count, row_number() OVER (PARTITION BY section ORDER BY count(*) DESC, actor) AS rank
           FROM ranged WHERE section IS NOT NULL GROUP BY section, actor
       ) ranked WHERE rank <= ${TOP_ACTORS}`,
      params,
    )) as Array<{ kind: string; section: string | null; key: string | null; count: string }>;
    const sections = COMPLIANCE_SECTIONS.map((section): ComplianceSection => {
      const ofSection = rows.filter((row) => row.section === section.name);
      const count = (row: { key: string | null; count: string }): ComplianceCount => ({ key: row.key ?? '', count: Number(row.count) });
      const byEventType = ofSection.filter((row) => row.kind === 'type').map(count).sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
      return {
        name: section.name,
        total: byEventType.reduce((sum, item) => sum + item.count, 0),
        byEventType,
        topActors: ofSection.filter((row) => row.kind === 'actor').map(count).sort((a, b) => b.count - a.count || a.key.localeCompare(b.key)),
      };
    });
    return { from, to, totalEvents: Number(rows.find((row) => row.kind === 'total')?.count ?? 0), sections };
  }
}
