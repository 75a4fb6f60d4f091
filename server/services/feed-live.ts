/**
 * The first event of a feed that has no snapshot (`tasksUpdated`, `taskDeleted`): it says the
 * feed is live, so a client that re-reads what it shows then misses no change made before the
 * feed's Redis subscription was in place. Sent as `{ data: null, extensions: { live: true } }`
 * (server/graphql/shared-execution.ts), since there is no task to put in `data`.
 */
export const FEED_LIVE = Symbol('feed live');
export type FeedLive = typeof FEED_LIVE;
