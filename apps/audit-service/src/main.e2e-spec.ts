import { join } from 'node:path';
import { describe } from '@jest/globals';
import { serviceAppScenarios } from '@llmops/platform-testing';

describe('audit-service app', () => {
  serviceAppScenarios({ name: 'audit-service', envPrefix: 'AUDIT_SERVICE', root: join(import.meta.dirname, '..', '..', '..') });
});
