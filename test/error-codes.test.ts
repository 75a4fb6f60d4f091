/**
 * One vocabulary of error codes: the table in docs/api.md ("Error codes") documents exactly the
 * codes in `ErrorCode`, and every code Apollo Server can answer with in this configuration is
 * one of them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApolloServerErrorCode } from '@apollo/server/errors';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../schema/src/errors.ts';

/** The first column of the table under `## Error codes`, without its backticks. */
function documentedCodes(): string[] {
  const api = readFileSync(join(import.meta.dirname, '..', 'docs', 'api.md'), 'utf8');
  const section = api.split(/^## /m).find((part) => part.startsWith('Error codes\n'));
  if (!section) throw new Error('docs/api.md has no "## Error codes" section');
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => /^\| `([A-Z_]+)` \|/.exec(line)?.[1] ?? `unreadable row: ${line}`);
}

describe('error codes', () => {
  it('documents every code in ErrorCode, once, and no other', () => {
    const documented = documentedCodes();
    expect(new Set(documented).size).toBe(documented.length);
    expect([...documented].sort()).toEqual(Object.values(ErrorCode).sort());
  });

  it("lists every code Apollo Server can answer with (persisted queries are on, so never PERSISTED_QUERY_NOT_SUPPORTED)", () => {
    const possible = Object.values(ApolloServerErrorCode).filter((code) => code !== ApolloServerErrorCode.PERSISTED_QUERY_NOT_SUPPORTED);
    expect(Object.values(ErrorCode)).toEqual(expect.arrayContaining(possible));
  });
});
