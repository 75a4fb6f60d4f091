/**
 * The OpenTelemetry attribute names our spans carry, in one place. Standard names follow the
 * semantic conventions v1.41.0 (open-telemetry/semantic-conventions, docs/gen-ai/gen-ai-spans.md
 * for the model call, docs/messaging and docs/http for the rest); the GenAI names behind
 * OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental follow the GenAI repository that took
 * them over (open-telemetry/semantic-conventions-genai, docs/gen-ai/client-inference.md and
 * non-normative/migration.md). Ours are under `atf.` (docs/observability.md lists them).
 */
export const Http = {
  REQUEST_METHOD: 'http.request.method',
  RESPONSE_STATUS_CODE: 'http.response.status_code',
  ROUTE: 'http.route',
  URL_PATH: 'url.path',
  URL_SCHEME: 'url.scheme',
  USER_AGENT: 'user_agent.original',
} as const;

export const Messaging = {
  SYSTEM: 'messaging.system',
  OPERATION_TYPE: 'messaging.operation.type',
  OPERATION_NAME: 'messaging.operation.name',
  DESTINATION_NAME: 'messaging.destination.name',
  MESSAGE_ID: 'messaging.message.id',
} as const;

export const GenAi = {
  OPERATION_NAME: 'gen_ai.operation.name',
  PROVIDER_NAME: 'gen_ai.provider.name',
  REQUEST_MODEL: 'gen_ai.request.model',
  REQUEST_MAX_TOKENS: 'gen_ai.request.max_tokens',
  REQUEST_STREAM: 'gen_ai.request.stream',
  RESPONSE_MODEL: 'gen_ai.response.model',
  RESPONSE_ID: 'gen_ai.response.id',
  RESPONSE_FINISH_REASONS: 'gen_ai.response.finish_reasons',
  RESPONSE_TIME_TO_FIRST_CHUNK: 'gen_ai.response.time_to_first_chunk',
  USAGE_INPUT_TOKENS: 'gen_ai.usage.input_tokens',
  USAGE_OUTPUT_TOKENS: 'gen_ai.usage.output_tokens',
  USAGE_CACHE_READ_INPUT_TOKENS: 'gen_ai.usage.cache_read.input_tokens',
  USAGE_REASONING_OUTPUT_TOKENS: 'gen_ai.usage.reasoning.output_tokens',
  /** Latest only: the text part of the input and output counts (all of ours are text). */
  USAGE_TEXT_INPUT_TOKENS: 'gen_ai.usage.text.input_tokens',
  USAGE_TEXT_OUTPUT_TOKENS: 'gen_ai.usage.text.output_tokens',
  SYSTEM_INSTRUCTIONS: 'gen_ai.system_instructions',
  INPUT_MESSAGES: 'gen_ai.input.messages',
  OUTPUT_MESSAGES: 'gen_ai.output.messages',
} as const;

export const General = {
  ERROR_TYPE: 'error.type',
  SERVER_ADDRESS: 'server.address',
  SERVER_PORT: 'server.port',
} as const;

/** Our own attributes and span events. */
export const Atf = {
  TASK_ID: 'atf.task.id',
  TASK_TYPE: 'atf.task.type',
  TENANT: 'atf.task.tenant',
  ATTEMPT: 'atf.task.attempt',
  /** Why the claim took the task, as its transition says: `claimed`, `reclaimed after lease expiry`, `resumed after shutdown`. */
  CLAIM_REASON: 'atf.task.claim_reason',
  SUBMIT_OUTCOME: 'atf.task.submit_outcome',
  /** How the attempt ended: completed, retry, dlq, deferred, cancelled, lease_lost, handed_back, stale, failed. */
  ATTEMPT_OUTCOME: 'atf.attempt.outcome',
  LINK_KIND: 'atf.link.kind',
  WAIT_REASON: 'atf.dispatch.wait_reason',
  WAIT_LINE_MS: 'atf.dispatch.line_wait_ms',
  DISPATCH_LANE: 'atf.dispatch.queue',
  DEFER_REASON: 'atf.defer.reason',
  DEFER_DELAY_MS: 'atf.defer.delay_ms',
  RETRY_DELAY_MS: 'atf.retry.delay_ms',
  ERROR_MESSAGE: 'atf.error.message',
  BUDGET_HOLD_NANO_USD: 'atf.budget.hold_nano_usd',
  BUDGET_OUTCOME: 'atf.budget.outcome',
  BUDGET_PERIOD: 'atf.budget.period',
  COST_NANO_USD: 'atf.usage.cost_nano_usd',
  COST_USD: 'atf.usage.cost_usd',
  USAGE_ESTIMATED: 'atf.usage.estimated',
  GENERATION_ID: 'atf.openrouter.generation_id',
  OUTPUT_CHUNKS: 'atf.response.chunks',
  SPANS_DROPPED: 'atf.trace.spans_dropped',
} as const;

export const AtfEvent = {
  /** The first piece of the answer arrived (time to first token). */
  FIRST_CHUNK: 'atf.first_chunk',
  /** The task joined its tenant's line (its wait for a slot began). */
  QUEUED: 'atf.queued',
  DEFERRED: 'atf.deferred',
} as const;
