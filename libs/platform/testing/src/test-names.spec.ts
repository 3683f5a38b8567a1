import { describe, expect, it } from '@jest/globals';
import { uniqueName } from './test-names.js';

describe(uniqueName.name, () => {
  it('appends a random suffix and keeps only [a-z0-9_]', () => {
    const first = uniqueName('Audit-Events.v1');
    expect(first).toMatch(/^audit_events_v1_[a-z0-9]{10}$/);
    expect(uniqueName('Audit-Events.v1')).not.toBe(first);
  });
});
