import { join } from 'node:path';
import { describe } from '@jest/globals';
import { serviceAppScenarios } from '@llmops/platform-testing';

const root = join(import.meta.dirname, '..', '..', '..');

describe('secret-service app', () => {
  serviceAppScenarios({ name: 'secret-service', envPrefix: 'SECRET_SERVICE', root });
});
