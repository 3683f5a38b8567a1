import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SecretEventType, SecretType } from '@llmops/contracts';
import { createLogger } from '@llmops/platform-observability';
import { ROTATION_SCHEDULER_ACTOR, RotationScheduler } from './rotation-scheduler.js';
import { openRotationTestBed, TEST_ADMIN, type RotationTestBed } from './testing/rotation-test-bed.js';

const ENVIRONMENT = 'production';
const HOUR_MS = 3600 * 1000;

describe(RotationScheduler.name, () => {
  let bed: RotationTestBed;
  let scheduler: RotationScheduler;

  beforeAll(async () => {
    bed = await openRotationTestBed('rotation_scheduler');
    scheduler = new RotationScheduler(bed.rotation, createLogger({ service: 'rotation-scheduler-test', version: 'test', level: 'silent' }), HOUR_MS);
  });

  afterAll(async () => {
    await scheduler?.stop();
    await bed?.close();
  });

  it('rotates the secrets whose next rotation is due, as the service, and leaves the others', async () => {
    const token = (seed: string): string => `sk-${seed.repeat(40).slice(0, 40)}`;
    const store = (path: string, value: string, rotationPeriodSeconds: number): Promise<unknown> =>
      bed.secrets.set(TEST_ADMIN, { path, environment: ENVIRONMENT, type: SecretType.GENERIC, value, rotationPeriodSeconds, gracePeriodSeconds: 600 });
    await store('acme/hourly/token', token('a'), 3600);
    await store('acme/daily/token', token('b'), 86_400);

    await scheduler.runOnce(new Date(Date.now() + 1.5 * HOUR_MS));

    const hourly = await bed.secrets.describe(TEST_ADMIN, { path: 'acme/hourly/token', environment: ENVIRONMENT });
    expect(hourly.secret.currentVersion).toBe(2);
    expect(hourly.versions[0]!.validUntil).not.toBeNull();
    expect(hourly.secret.nextRotationAt!.getTime()).toBeGreaterThan(Date.now() + 0.9 * HOUR_MS);
    const value = (await bed.secrets.get(TEST_ADMIN, { path: 'acme/hourly/token', environment: ENVIRONMENT, reveal: true })).value;
    expect(value).toMatch(/^sk-[A-Za-z0-9]{43}$/);
    expect((await bed.secrets.describe(TEST_ADMIN, { path: 'acme/daily/token', environment: ENVIRONMENT })).secret.currentVersion).toBe(1);
    const [rotated] = await bed.events(SecretEventType.Rotated);
    expect(rotated!.actor?.id).toBe(ROTATION_SCHEDULER_ACTOR.principal.id);
  });
});
