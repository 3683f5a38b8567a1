/** What a client does with one watched change to a key it resolves for its environment. */
export type ChangeEffect = 'ignore' | 'apply' | 'refetch';

/** The environment and per-environment version a key's value currently resolves from. */
export interface ResolvedFrom {
  environment: string;
  version: number;
}

export interface WatchedChange {
  environment: string;
  version: number;
  deleted: boolean;
}

/**
 * Decides, from the resolution order (most specific first; undefined when the client could not learn it), the key's
 * current resolution and a change, whether the change takes effect. A change in a less specific environment than the
 * value's is shadowed; one in the same environment applies if newer, but a deletion there uncovers a value the client
 * never loaded, so the key is read again. `mayBeLoaded` marks changes the initial load may already include: a more
 * specific write among them may have been deleted since, so it is read again rather than trusted.
 */
export function changeEffectOf(
  order: readonly string[] | undefined,
  current: ResolvedFrom | undefined,
  change: WatchedChange,
  mayBeLoaded: boolean,
): ChangeEffect {
  if (order === undefined) return 'refetch';
  const rank = order.indexOf(change.environment);
  if (rank < 0) return 'ignore';
  if (current === undefined) {
    if (change.deleted) return 'ignore';
    return mayBeLoaded ? 'refetch' : 'apply';
  }
  const currentRank = order.indexOf(current.environment);
  if (currentRank < 0) return 'refetch';
  if (rank > currentRank) return 'ignore';
  if (rank === currentRank) {
    if (change.version <= current.version) return 'ignore';
    return change.deleted ? 'refetch' : 'apply';
  }
  // More specific than the value: a deletion there means the client missed its write, so only a read can tell.
  if (change.deleted || mayBeLoaded) return 'refetch';
  return 'apply';
}
