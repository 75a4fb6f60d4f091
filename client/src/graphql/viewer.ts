/**
 * Who the caller is (tenant, scopes) and what the server offers it; read once by the app shell.
 * Codegen turns each document into a typed one in ../gql (fragments are shared across files).
 */
import { graphql } from '../gql/index.ts';

export const ViewerQuery = graphql(`
  query Viewer {
    viewer {
      tenant
      scopes
      authenticationRequired
      traceUrlTemplate
    }
  }
`);
