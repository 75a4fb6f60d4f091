/**
 * The one place errors become GraphQL errors, for HTTP and WebSocket alike: AppErrors keep
 * their code and safe details; anything else is masked outside development.
 */
import type { GraphQLError, GraphQLFormattedError } from 'graphql';
import { ErrorCode, isAppError } from '../../schema/src/errors.ts';

export interface FormatErrorOptions {
  /** Show unknown errors' messages (development only). */
  exposeInternalErrors: boolean;
  /** Drop "Did you mean ...?" suggestions, which reveal the schema, unless introspection is on for everyone. */
  hideSchemaDetails?: boolean;
  onInternalError?: (error: unknown) => void;
}

// Checked by shape, not instanceof or name: graphql may be loaded twice (CommonJS and ESM
// builds, seen under Vite), and Apollo subclasses it (ValidationError, SyntaxError, ...).
const isGraphQLError = (error: unknown): error is GraphQLError =>
  error instanceof Error && 'locations' in error && 'path' in error && 'extensions' in error;

/** Unwraps the error a resolver threw from GraphQL's located wrappers. */
function originalOf(error: unknown): unknown {
  let current = error;
  while (isGraphQLError(current) && current.originalError) current = current.originalError;
  return current;
}

export function createFormatError(options: FormatErrorOptions) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = originalOf(error);
    if (isAppError(original)) {
      return {
        message: original.message,
        ...(formatted.locations ? { locations: formatted.locations } : {}),
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: {
          code: original.code,
          ...(original.retryable ? { retryable: true } : {}),
          ...(original.details ? { details: original.details } : {}),
        },
      };
    }
    // Validation, parsing and variable errors: GraphQL's own, safe to show as they are.
    if (!(original instanceof Error) || isGraphQLError(original)) {
      const { extensions, message, ...rest } = formatted;
      const code = (extensions?.code as string | undefined) ?? ErrorCode.GRAPHQL_VALIDATION_FAILED;
      const shown = options.hideSchemaDetails ? message.replace(/ ?Did you mean .*\?$/, '') : message;
      return { ...rest, message: shown, extensions: { code } };
    }
    options.onInternalError?.(original);
    if (options.exposeInternalErrors) {
      return { ...formatted, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
    }
    return {
      message: 'internal error',
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}
