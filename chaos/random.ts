/** Seeded randomness for the chaos run: the same faults and load for the same seed, as far as timing allows. */

export { seeded } from '../tools/seeded-random.ts';

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
