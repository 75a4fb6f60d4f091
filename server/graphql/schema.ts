import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import type { Resolvers } from './__generated__/resolvers.ts';
import { resolvers as plainResolvers } from './resolvers.ts';

const SDL_DIR = join(import.meta.dirname, '..', '..', 'schema');

/** The SDL files of the public contract, in a stable order. */
export function loadTypeDefs(): string[] {
  return readdirSync(SDL_DIR)
    .filter((file) => file.endsWith('.graphql'))
    .sort((a, b) => (a === 'task.graphql' ? -1 : b === 'task.graphql' ? 1 : a.localeCompare(b)))
    .map((file) => readFileSync(join(SDL_DIR, file), 'utf8'));
}

/** The executable schema; the server passes its resolvers wrapped with authorization. */
export function createSchema(resolvers: Resolvers = plainResolvers): GraphQLSchema {
  return makeExecutableSchema({ typeDefs: loadTypeDefs(), resolvers });
}
