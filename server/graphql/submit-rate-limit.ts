/**
 * Per-caller limit on task submissions, as an Apollo plugin: once the operation is known
 * (and before anything runs) its submitTask fields take that many tokens from the caller's
 * Redis bucket, or the request ends with 429 and Retry-After and nothing is submitted.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { Redis } from 'ioredis';
import { AppError, ErrorCode } from '../../schema/src/errors.ts';
import type { RateLimit } from '../../schema/src/rate-limit.ts';
import { TAKE_SUBMIT_TOKENS } from '../../schema/src/rate-limit.ts';
import type { RedisKeys } from '../../schema/src/redis-keys.ts';
import type { GraphQLContext } from './context.ts';
import { measureOperation, type GraphQLLimits } from './limits.ts';

export interface SubmitRateLimitOptions {
  redis: Redis;
  keys: RedisKeys;
  limit: RateLimit;
  graphqlLimits: GraphQLLimits;
}

function rejection(appError: AppError, status: number, headers: HeaderMap = new HeaderMap()): GraphQLError {
  return new GraphQLError(appError.message, { originalError: appError, extensions: { code: appError.code, http: { status, headers } } });
}

export function submitRateLimitPlugin(options: SubmitRateLimitOptions): ApolloServerPlugin<GraphQLContext> {
  const { redis, keys, limit } = options;
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, contextValue }) {
          if (!operation || operation.operation !== 'mutation') return;
          const fragments = new Map(document.definitions.flatMap((d) => (d.kind === 'FragmentDefinition' ? [[d.name.value, d] as const] : [])));
          const { submits } = measureOperation(operation, (name) => fragments.get(name), options.graphqlLimits);
          if (submits === 0) return;
          let waitMs: number;
          try {
            waitMs = Number(await redis.eval(TAKE_SUBMIT_TOKENS, 1, keys.submitBucket(contextValue.caller.actor), limit.capacity, limit.windowMs, submits));
          } catch (cause) {
            throw rejection(new AppError(ErrorCode.UNAVAILABLE, 'the task store is unavailable; try again', { retryable: true, cause }), 503);
          }
          if (waitMs === 0) return;
          const retryAfterSeconds = Math.max(1, Math.ceil((waitMs < 0 ? limit.windowMs : waitMs) / 1000));
          const appError = new AppError(ErrorCode.RATE_LIMITED, `too many submissions for this API key (limit ${limit.capacity} per ${limit.windowMs / 1000} s); retry after ${retryAfterSeconds} s`, {
            retryable: true,
            details: { retryAfterSeconds },
          });
          throw rejection(appError, 429, new HeaderMap([['retry-after', String(retryAfterSeconds)]]));
        },
      };
    },
  };
}
