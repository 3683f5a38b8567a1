import { describe, expect, it } from '@jest/globals';
import type { ComplianceReportView } from './audit-log-views.js';
import { acceptsCsvOverJson, complianceCsvFilename, complianceReportCsv, csvCell } from './compliance-report-csv.js';

const report: ComplianceReportView = {
  from: '2025-01-01T00:00:00.000Z',
  to: '2025-02-01T12:30:00.250Z',
  total_events: 120,
  sections: [
    {
      name: 'authentication_failures',
      total: 7,
      by_event_type: [{ key: 'auth.login_failed', count: 7 }],
      top_actors: [
        { key: '(anonymous)', count: 5 },
        { key: '=HYPERLINK("http://evil","x")', count: 2 },
      ],
    },
    { name: 'secret_access', total: 0, by_event_type: [], top_actors: [] },
  ],
  tree_head: null,
};

describe('compliance report CSV', () => {
  it('has a header row and one row per count, CRLF-terminated', () => {
    expect(complianceReportCsv(report)).toBe(
      [
        'section,kind,key,count',
        'all,total,,120',
        'authentication_failures,total,,7',
        'authentication_failures,event_type,auth.login_failed,7',
        'authentication_failures,actor,(anonymous),5',
        `authentication_failures,actor,"'=HYPERLINK(""http://evil"",""x"")",2`,
        'secret_access,total,,0',
        '',
      ].join('\r\n'),
    );
  });

  it('quotes cells with a comma, quote or line break (RFC 4180)', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('cr\rlf')).toBe('"cr\rlf"');
    expect(csvCell('')).toBe('');
    expect(csvCell(42)).toBe('42');
  });

  it('defuses cells a spreadsheet would run as a formula', () => {
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\t=1')).toBe("'\t=1");
    expect(csvCell('=cmd|"/c calc"!A0')).toBe(`"'=cmd|""/c calc""!A0"`);
    expect(csvCell('a=b')).toBe('a=b');
    expect(csvCell("'quoted")).toBe("'quoted");
  });

  it('names the file after the range in ISO 8601 basic format', () => {
    expect(complianceCsvFilename(report)).toBe('compliance-20250101T000000Z-20250201T123000.250Z.csv');
  });

  it('negotiates CSV only when Accept prefers it to JSON', () => {
    expect(acceptsCsvOverJson(undefined)).toBe(false);
    expect(acceptsCsvOverJson('*/*')).toBe(false);
    expect(acceptsCsvOverJson('application/json')).toBe(false);
    expect(acceptsCsvOverJson('text/csv')).toBe(true);
    expect(acceptsCsvOverJson('Text/CSV; charset=utf-8')).toBe(true);
    expect(acceptsCsvOverJson('text/csv, application/json')).toBe(true);
    expect(acceptsCsvOverJson('application/json, text/csv')).toBe(false);
    expect(acceptsCsvOverJson('application/json;q=0.5, text/csv')).toBe(true);
    expect(acceptsCsvOverJson('text/csv;q=0.2, application/json;q=0.9')).toBe(false);
    expect(acceptsCsvOverJson('text/csv;q=0')).toBe(false);
  });
});
