import { describe, expect, it } from '@jest/globals';
import { sleep, waitFor } from '@llmops/platform-testing';
import { redeliveryDelayMs } from './event-bus.js';
import { InProcessBus, subjectMatches } from './in-process-bus.js';
import { testEvent } from './testing/test-events.js';

describe(InProcessBus.name, () => {
  it('accepts a repeated eventId again once the duplicate window has passed', async () => {
    const bus = new InProcessBus({ duplicateWindowMs: 50 });
    const event = testEvent('events.test.item.created', 1);
    const received: number[] = [];
    await bus.subscribe({ durableName: 'd', filterSubjects: ['events.>'] }, async (_event, raw) => {
      received.push(raw.streamSequence);
    });

    await bus.publish(event.subject, event.bytes, event.id);
    await bus.publish(event.subject, event.bytes, event.id);
    await sleep(80);
    await bus.publish(event.subject, event.bytes, event.id);

    await waitFor(() => received.length === 2, { message: 'timed out waiting for two stored copies' });
    expect(received).toEqual([1, 2]);
    await bus.close();
  });

  it('keeps history for a durable consumer that subscribes later, up to the history limit', async () => {
    const bus = new InProcessBus({ historyLimit: 3 });
    const events = Array.from({ length: 5 }, (_, n) => testEvent('events.test.item.created', n));
    for (const event of events) await bus.publish(event.subject, event.bytes, event.id);
    const received: string[] = [];

    await bus.subscribe({ durableName: 'late', filterSubjects: ['events.>'] }, async (event) => void received.push(event.id));

    await waitFor(() => received.length === 3, { message: 'timed out waiting for the retained events' });
    expect(received).toEqual(events.slice(2).map((event) => event.id));
    await bus.close();
  });

  it('does not drop events a known durable consumer has not acknowledged, whatever the history limit', async () => {
    const bus = new InProcessBus({ historyLimit: 1 });
    const received: string[] = [];
    const options = { durableName: 'slow', filterSubjects: ['events.>'] };
    await (await bus.subscribe(options, async () => undefined)).close();
    const events = Array.from({ length: 4 }, (_, n) => testEvent('events.test.item.created', n));
    for (const event of events) await bus.publish(event.subject, event.bytes, event.id);

    await bus.subscribe(options, async (event) => void received.push(event.id));

    await waitFor(() => received.length === 4, { message: 'timed out waiting for every event' });
    expect(received).toEqual(events.map((event) => event.id));
    await bus.close();
  });

  it('rejects subjects outside its root and anything after close', async () => {
    const bus = new InProcessBus({ subjectRoot: 'events' });
    const stray = testEvent('other.test.item.created', 1);
    await expect(bus.publish(stray.subject, stray.bytes, stray.id)).rejects.toThrow('No stream for subject');
    await bus.close();
    await expect(bus.ping()).rejects.toThrow('closed');
  });

  it('rejects a maxBatchSize that is not a positive integer', async () => {
    const bus = new InProcessBus();
    for (const maxBatchSize of [0, 2.5]) {
      await expect(bus.subscribeBatches({ durableName: 'd', filterSubjects: ['events.>'], maxBatchSize }, async () => undefined)).rejects.toThrow(
        'maxBatchSize must be a positive integer',
      );
    }
    await bus.close();
  });

  it('does not wait for handlers in publish, so a publisher holding a DB transaction never waits for consumers', async () => {
    const bus = new InProcessBus();
    let releaseHandler = (): void => undefined;
    const handlerBlocked = new Promise<void>((resolve) => (releaseHandler = resolve));
    await bus.subscribe({ durableName: 'd', filterSubjects: ['events.>'] }, () => handlerBlocked);
    const [first, second] = [1, 2].map((n) => testEvent('events.test.item.created', n));

    await bus.publish(first!.subject, first!.bytes, first!.id);
    await bus.publish(second!.subject, second!.bytes, second!.id);

    releaseHandler();
    await bus.close();
  });
});

describe(subjectMatches.name, () => {
  it.each([
    ['events.>', 'events.config-manager.config.updated', true],
    ['events.>', 'events', false],
    ['events.*.config.updated', 'events.config-manager.config.updated', true],
    ['events.*', 'events.config-manager.config.updated', false],
    ['events.config-manager.config.updated', 'events.config-manager.config.updated', true],
    ['events.config-manager.config', 'events.config-manager.config.updated', false],
    ['events.audit.>', 'events.config-manager.config.updated', false],
  ])('%s matches %s: %s', (filter, subject, expected) => {
    expect(subjectMatches(filter, subject)).toBe(expected);
  });
});

describe(redeliveryDelayMs.name, () => {
  it('doubles per failed delivery up to the cap', () => {
    const backoff = { initialMs: 100, maxMs: 1_000 };
    expect([1, 2, 3, 4, 5, 6].map((n) => redeliveryDelayMs(n, backoff))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });
});
