import type { CodegenConfig } from '@graphql-codegen/cli';

/** One contract, two outputs: typed resolvers for the server, typed documents for the client. */
const config: CodegenConfig = {
  schema: 'schema/*.graphql',
  emitLegacyCommonJSImports: false,
  generates: {
    'server/graphql/__generated__/resolvers.ts': {
      plugins: ['typescript', 'typescript-resolvers'],
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        contextType: '../context.ts#GraphQLContext',
        mappers: {
          Task: '../../../schema/src/task.ts#TaskRecord',
          TaskError: '../../../schema/src/task.ts#TaskErrorRecord',
          TaskTransition: '../../../schema/src/task.ts#TaskEvent',
          QueueStatus: '../../services/queue-service.ts#QueueStatusSnapshot',
          Worker: '../../services/worker-service.ts#WorkerView',
          CircuitStatus: '../../../schema/src/circuit.ts#CircuitSnapshot',
          ModelStatus: '../../infra/model-breaker-store.ts#ModelStatusView',
          ProviderStatus: '../../../schema/src/provider-status.ts#ProviderStatusSnapshot',
          TaskStanding: '../../services/dispatch-service.ts#TaskStandingView',
        },
        scalars: { DateTime: { input: 'Date', output: 'number | string | Date' } },
      },
    },
    'client/src/gql/': {
      documents: ['client/src/**/*.{ts,tsx}', '!client/src/gql/**'],
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: 'string' },
      },
    },
  },
};

export default config;
