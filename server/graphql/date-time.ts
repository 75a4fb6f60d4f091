import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

/** ISO-8601 in UTC with a trailing Z. Accepts epoch ms, Date or ISO strings on output. */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An ISO-8601 instant in UTC, always with a trailing Z.',
  serialize(value) {
    const date = value instanceof Date ? value : new Date(value as number | string);
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime cannot represent an invalid date');
    return date.toISOString();
  },
  parseValue(value) {
    return parseIso(value);
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be an ISO-8601 string');
    return parseIso(ast.value);
  },
});

function parseIso(value: unknown): Date {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(value)) {
    throw new GraphQLError('DateTime must be an ISO-8601 string in UTC ending in Z');
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime is not a valid date');
  return date;
}
