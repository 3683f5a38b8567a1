import { ConfigEventType } from '@llmops/contracts';
import type { EventBus, Subscription } from '@llmops/platform-messaging';

/** The events config-manager's outbox relays for every committed config change, whichever replica committed it. */
export function configEventSubjects(subjectRoot: string): string {
  return `${subjectRoot}.config-manager.config.>`;
}

/**
 * Calls `onCommit` for every config change any replica commits, once its outbox relay has published the event, so
 * that a watch on this replica wakes without waiting for its poll. Every replica needs every announcement and none
 * from before it started, so this listens (EventBus.listen) rather than consumes; a lost announcement only delays a
 * watch until its next poll, and after a bus reconnect (when some may have been lost) the watches look at once.
 */
export function listenForConfigCommits(bus: EventBus, subjectRoot: string, onCommit: () => void): Subscription {
  // config.> also carries settings, prompt, budget and access-denied events, which change no key: they wake no watch.
  return bus.listen(
    configEventSubjects(subjectRoot),
    (subject) => {
      if (KEY_CHANGES.has(subject.slice(subject.lastIndexOf('.config.') + 1))) onCommit();
    },
    { onResume: onCommit },
  );
}

const KEY_CHANGES: ReadonlySet<string> = new Set([
  ConfigEventType.Created,
  ConfigEventType.Updated,
  ConfigEventType.Deleted,
  ConfigEventType.RolledBack,
  ConfigEventType.Restored,
]);
