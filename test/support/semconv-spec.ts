/**
 * Attribute names as the specifications list them, written down here by hand (not taken from
 * common/semconv.ts, which the tests hold to these lists):
 *
 * - GenAI v1.41: the inference span's attribute table of open-telemetry/semantic-conventions
 *   v1.41.0, docs/gen-ai/gen-ai-spans.md ("Inference"), checked name by name against the registry
 *   constants of @opentelemetry/semantic-conventions 1.41.1 (generated from the v1.41.0 registry).
 * - GenAI latest: open-telemetry/semantic-conventions-genai v0.1.0 (the repository the GenAI
 *   conventions moved to after v1.41.0), docs/gen-ai/client-inference.md, span
 *   `gen_ai.client.inference`; docs/gen-ai/non-normative/migration.md lists what changed.
 * - Messaging, HTTP, server and error attributes: semantic-conventions v1.41.0,
 *   docs/messaging/messaging-spans.md, docs/http/http-spans.md, docs/registry/attributes.
 */
export const GEN_AI_V1_41 = new Set([
  'gen_ai.operation.name',
  'gen_ai.provider.name',
  'error.type',
  'gen_ai.conversation.id',
  'gen_ai.output.type',
  'gen_ai.request.choice.count',
  'gen_ai.request.model',
  'gen_ai.request.seed',
  'gen_ai.request.stream',
  'server.port',
  'gen_ai.request.frequency_penalty',
  'gen_ai.request.max_tokens',
  'gen_ai.request.presence_penalty',
  'gen_ai.request.stop_sequences',
  'gen_ai.request.temperature',
  'gen_ai.request.top_k',
  'gen_ai.request.top_p',
  'gen_ai.response.finish_reasons',
  'gen_ai.response.id',
  'gen_ai.response.model',
  'gen_ai.response.time_to_first_chunk',
  'gen_ai.usage.input_tokens',
  'gen_ai.usage.output_tokens',
  'gen_ai.usage.cache_read.input_tokens',
  'gen_ai.usage.cache_creation.input_tokens',
  'gen_ai.usage.reasoning.output_tokens',
  'server.address',
  'gen_ai.input.messages',
  'gen_ai.output.messages',
  'gen_ai.system_instructions',
  'gen_ai.tool.definitions',
]);

export const GEN_AI_LATEST = new Set([
  'gen_ai.operation.name',
  'gen_ai.provider.name',
  'error.type',
  'gen_ai.conversation.id',
  'gen_ai.output.type',
  'gen_ai.prompt.name',
  'gen_ai.prompt.version',
  'gen_ai.request.choice.count',
  'gen_ai.request.model',
  'gen_ai.request.seed',
  'gen_ai.request.stream',
  'gen_ai.request.top_k',
  'server.port',
  'gen_ai.conversation.compacted',
  'gen_ai.request.frequency_penalty',
  'gen_ai.request.max_tokens',
  'gen_ai.request.presence_penalty',
  'gen_ai.request.previous_response.id',
  'gen_ai.request.reasoning.level',
  'gen_ai.request.stop_sequences',
  'gen_ai.request.temperature',
  'gen_ai.request.top_p',
  'gen_ai.response.finish_reasons',
  'gen_ai.response.id',
  'gen_ai.response.model',
  'gen_ai.response.time_to_first_chunk',
  'gen_ai.usage.audio.cache_read.input_tokens',
  'gen_ai.usage.audio.input_tokens',
  'gen_ai.usage.audio.output_tokens',
  'gen_ai.usage.cache_read.input_tokens',
  'gen_ai.usage.cache_write.input_tokens',
  'gen_ai.usage.image.cache_read.input_tokens',
  'gen_ai.usage.image.input_tokens',
  'gen_ai.usage.image.output_tokens',
  'gen_ai.usage.input_tokens',
  'gen_ai.usage.output_tokens',
  'gen_ai.usage.reasoning.output_tokens',
  'gen_ai.usage.text.cache_read.input_tokens',
  'gen_ai.usage.text.input_tokens',
  'gen_ai.usage.text.output_tokens',
  'server.address',
  'gen_ai.input.messages',
  'gen_ai.output.messages',
  'gen_ai.prompt.variable',
  'gen_ai.system_instructions',
  'gen_ai.tool.definitions',
]);

/** The messaging span attributes of v1.41.0 we may use (the generic messaging.* set). */
export const MESSAGING_V1_41 = new Set([
  'messaging.system',
  'messaging.operation.type',
  'messaging.operation.name',
  'messaging.destination.name',
  'messaging.message.id',
  'messaging.batch.message_count',
  'messaging.client.id',
  'messaging.consumer.group.name',
  'messaging.destination.partition.id',
  'messaging.message.body.size',
  'messaging.message.conversation_id',
  'server.address',
  'server.port',
  'error.type',
]);

/** The HTTP server span attributes of v1.41.0. */
export const HTTP_SERVER_V1_41 = new Set([
  'http.request.method',
  'http.request.method_original',
  'http.response.status_code',
  'http.route',
  'url.path',
  'url.query',
  'url.scheme',
  'user_agent.original',
  'client.address',
  'client.port',
  'server.address',
  'server.port',
  'network.protocol.name',
  'network.protocol.version',
  'network.peer.address',
  'network.peer.port',
  'error.type',
]);

/** Names outside every list above must be ours. */
export const isOwnAttribute = (name: string) => name.startsWith('atf.');
