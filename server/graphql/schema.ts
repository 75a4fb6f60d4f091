import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { resolvers } from './resolvers.ts';

const SDL_DIR = join(import.meta.dirname, '..', '..', 'schema');

/** The SDL files of the public contract, in a stable order. */
export function loadTypeDefs(): string[] {
  return readdirSync(SDL_DIR)
    .filter((file) => file.endsWith('.graphql'))
    .sort((a, b) => (a === 'task.graphql' ? -1 : b === 'task.graphql' ? 1 : a.localeCompare(b)))
    .map((file) => readFileSync(join(SDL_DIR, file), 'utf8'));
}

export function createSchema(): GraphQLSchema {
  return makeExecutableSchema({ typeDefs: loadTypeDefs(), resolvers });
}
