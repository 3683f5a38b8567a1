import type { EventBus } from '@llmops/platform-messaging';
import type { Logger } from '@llmops/platform-observability';
import { connect } from '@nats-io/transport-node';

/** The events config-manager's outbox relays for every committed config change, whichever replica committed it. */
export function configEventSubjects(subjectRoot: string): string {
  return `${subjectRoot}.config-manager.config.>`;
}

export interface ConfigCommitAnnouncementSource {
  /** Set: listen on NATS, where the relays of every replica publish. Unset: the in-process bus of the one-process mode. */
  natsUrl?: string;
  bus: () => EventBus;
  subjectRoot: string;
  logger: Logger;
}

export interface ConfigCommitAnnouncements {
  close(): Promise<void>;
}

/** The in-process bus serves one process, hence one config-manager: a single durable name is enough. */
const IN_PROCESS_CONSUMER = 'config-manager-watch-wakeups';

/**
 * Calls `onCommit` for every config change any replica commits, once its outbox relay has published the event, so
 * that a watch on this replica wakes without waiting for its poll. On NATS this is a core subscription rather than a
 * JetStream consumer: every replica needs every announcement (a durable consumer would share them out between
 * replicas), none needs one from before it started, and nothing is left on the server once it stops. JetStream
 * publishes reach core subscribers of the subject too. A lost announcement only delays a watch until its next poll.
 */
export async function listenForConfigCommits(source: ConfigCommitAnnouncementSource, onCommit: () => void): Promise<ConfigCommitAnnouncements> {
  const subject = configEventSubjects(source.subjectRoot);
  if (source.natsUrl === undefined) {
    return source.bus().subscribe({ durableName: IN_PROCESS_CONSUMER, filterSubjects: [subject] }, async () => onCommit());
  }
  const connection = await connect({
    servers: source.natsUrl.split(',').map((url) => url.trim()),
    name: 'config-manager-watch-wakeups',
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1_000,
  });
  connection.subscribe(subject, {
    callback: (error) => {
      if (error) source.logger.warn({ err: error, subject }, 'config commit announcements failed; watches fall back to polling');
      else onCommit();
    },
  });
  // Nothing to flush (no acks, no publishes): close at once, also while NATS is unreachable.
  return { close: () => connection.close() };
}
