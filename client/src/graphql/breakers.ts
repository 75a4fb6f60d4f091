/**
 * The dashboard's health panels: workers and their circuit breakers, the models' breakers and the
 * provider's status, and the admin's open/reset of the workers' breakers.
 * Codegen turns each document into a typed one in ../gql (fragments are shared across files).
 */
import { graphql } from '../gql/index.ts';

export const WorkerFields = graphql(`
  fragment WorkerFields on Worker {
    id
    alive
    lastHeartbeatAt
    concurrency
    activeTasks
    circuit {
      state
      failures
      openedAt
      halfOpenAt
    }
  }
`);

export const WorkersSubscription = graphql(`
  subscription WorkersUpdated {
    workersUpdated {
      ...WorkerFields
    }
  }
`);

export const ModelsSubscription = graphql(`
  subscription ModelsUpdated {
    modelsUpdated {
      model
      configured
      state
      openedAt
      halfOpenAt
      calls
      failures
      failureRate
    }
  }
`);

export const ResetCircuitBreakersMutation = graphql(`
  mutation ResetCircuitBreakers {
    resetCircuitBreakers {
      ...WorkerFields
    }
  }
`);

export const OpenCircuitBreakersMutation = graphql(`
  mutation OpenCircuitBreakers {
    openCircuitBreakers {
      ...WorkerFields
    }
  }
`);

export const ProviderStatusSubscription = graphql(`
  subscription ProviderStatusUpdated {
    providerStatusUpdated {
      state
      creditsRemaining
      rateLimitedUntil
      checkedAt
    }
  }
`);
