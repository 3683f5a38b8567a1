import type { RedisCacheLayer } from '@llmops/platform-cache';
import type { Registry } from 'prom-client';
import type { SecretReferenceResolver } from '../secret-references/secret-reference-resolver.js';

/** What ConfigsService and NamespaceSettingsService need beyond their database and outbox. */
export interface ConfigServiceOptions {
  /** Where operation and cache metrics go. */
  registry: Registry;
  /** Redis L2 and cross-replica invalidation; without it the read caches are per process (the embedded, one-process default). */
  sharedCache?: RedisCacheLayer;
  /** Resolves `{"$secret": path}` references on reads that ask for it; without it such reads answer FAILED_PRECONDITION. */
  secretReferences?: SecretReferenceResolver;
  /** Called after each committed config or settings write, so the outbox relay publishes its event now, not at its next poll. */
  onCommitted?: () => void;
  /** How often waiting watches look for changes when no commit announcement arrives (a backstop); 200 ms by default. */
  watchPollMs?: number;
  /** Where a failed read of new changes for watches is reported (the watches retry at the next poll). */
  logger?: { warn(details: object, message: string): void };
}
