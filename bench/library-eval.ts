/**
 * `node --import tsx bench/library-eval.ts` (about 30 s): issue 14, item 11, a library weighed
 * against a hand-written part, correctness and speed measured in the same run, each speed as a
 * ratio to the other taken in alternating order (these machines are shared and noisy).
 *
 * - SSE: worker/providers/sse.ts (eventsource-parser) against the hand-written parser it
 *   replaced, kept below as the baseline.
 * - Operation limits: server/graphql/limits.ts against @escape.tech/graphql-armor's depth, alias
 *   and directive rules (set to our limits and our counting) and its Apollo preset. graphql-armor
 *   is not a dependency: `npm i --no-save @escape.tech/graphql-armor@3.2.0` first, or its
 *   columns are skipped.
 *
 * Prints Markdown tables; asserts nothing.
 */
import { ApolloServer, HeaderMap } from '@apollo/server';
import { GraphQLError, parse, specifiedRules, validate, type DocumentNode, type ValidationContext, type ValidationRule } from 'graphql';
import { operationLimitsRule, type GraphQLLimits } from '../server/graphql/limits.ts';
import { createSchema } from '../server/graphql/schema.ts';
import { createSseParser, type SseParser } from '../worker/providers/sse.ts';

// ---------------------------------------------------------------- timing

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Median milliseconds per call of each function, rounds alternating their order. */
function race(fns: Record<string, () => unknown>, rounds = 9, minMs = 40): Record<string, number> {
  const entries = Object.entries(fns);
  const times: Record<string, number[]> = {};
  for (let round = 0; round < rounds; round++) {
    for (const [name, fn] of round % 2 ? [...entries].reverse() : entries) {
      let calls = 0;
      const start = performance.now();
      do {
        fn();
        calls++;
      } while (performance.now() - start < minMs);
      // The first round warms up the JIT.
      if (round > 0) (times[name] ??= []).push((performance.now() - start) / calls);
    }
  }
  return Object.fromEntries(entries.map(([name]) => [name, median(times[name]!)]));
}

const fmtMs = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(2) : ms >= 0.01 ? ms.toFixed(3) : ms.toExponential(1));
const table = (head: string[], rows: string[][]) => [head, head.map(() => '---'), ...rows].map((row) => `| ${row.join(' | ')} |`).join('\n');

// ---------------------------------------------------------------- SSE

/** The hand-written parser of worker/providers/sse.ts until issue 14 (commit 3238136). */
function createFormerSseParser(): SseParser {
  let buffer = '';
  let data: string[] = [];
  const takeLine = (line: string, events: string[]) => {
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line === '') {
      if (data.length > 0) events.push(data.join('\n'));
      data = [];
    } else if (line.startsWith('data:')) {
      data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
    }
  };
  return {
    push(text) {
      buffer += text;
      const events: string[] = [];
      let newline = buffer.indexOf('\n');
      while (newline !== -1) {
        takeLine(buffer.slice(0, newline), events);
        buffer = buffer.slice(newline + 1);
        newline = buffer.indexOf('\n');
      }
      return events;
    },
    end() {
      const events: string[] = [];
      if (buffer) takeLine(buffer, events);
      buffer = '';
      takeLine('', events);
      return events;
    },
  };
}

const SSE_PARSERS = { 'hand-written': createFormerSseParser, 'sse.ts (eventsource-parser)': createSseParser };

const feed = (make: () => SseParser, pieces: readonly string[]) => {
  const parser = make();
  return [...pieces.flatMap((piece) => parser.push(piece)), ...parser.end()];
};
const inPieces = (body: string, size: number) => Array.from({ length: Math.ceil(body.length / size) }, (_, i) => body.slice(i * size, (i + 1) * size));
const everySplit = (body: string) => [[body], ...Array.from({ length: body.length - 1 }, (_, i) => [body.slice(0, i + 1), body.slice(i + 1)]), [...body]];

function sseCorrectness(): string {
  const cases: [string, string, string[]][] = [
    ['comments, multi-line data, LF', ': OPENROUTER PROCESSING\n\ndata: {"a":1}\n\ndata: {"b":\ndata: 2}\n\n: keep-alive\ndata: [DONE]\n\n', ['{"a":1}', '{"b":\n2}', '[DONE]']],
    ['CRLF', 'data: a\r\n\r\ndata: b\r\ndata: c\r\n\r\n', ['a', 'b\nc']],
    ['bare CR line ends', 'data: a\r\rdata: b\r\r', ['a', 'b']],
    ['last event without its blank line', 'data: {"x":1}\n\ndata: last', ['{"x":1}', 'last']],
    ['last event ending in one CR', 'data: last\r', ['last']],
    ['`data:` without space, with two', 'data:x\n\ndata:  y\n\n', ['x', ' y']],
    ['`data` with no colon (an empty line of data)', 'data\ndata: z\n\n', ['\nz']],
    ['event:, id:, retry:, unknown fields', 'event: message\nid: 7\nretry: x\nfoo: bar\ndata: ok\n\n', ['ok']],
  ];
  const rows = cases.map(([name, body, expected]) => [
    `${name} (every split)`,
    ...Object.values(SSE_PARSERS).map((make) => {
      const wrong = everySplit(body).find((pieces) => JSON.stringify(feed(make, pieces)) !== JSON.stringify(expected));
      return wrong ? `wrong: ${JSON.stringify(feed(make, wrong))}` : 'right';
    }),
  ]);
  const bytes = new TextEncoder().encode('data: {"t":"héllo 😀 世界"}\n\n');
  rows.push([
    'UTF-8 split at every byte (TextDecoder, as openrouter.ts reads)',
    ...Object.values(SSE_PARSERS).map((make) => {
      for (let at = 1; at < bytes.length; at++) {
        const decoder = new TextDecoder();
        const pieces = [decoder.decode(bytes.slice(0, at), { stream: true }), decoder.decode(bytes.slice(at), { stream: true }), decoder.decode()];
        if (JSON.stringify(feed(make, pieces)) !== '["{\\"t\\":\\"héllo 😀 世界\\"}"]') return 'wrong';
      }
      return 'right';
    }),
  ]);
  return table(['SSE case', ...Object.keys(SSE_PARSERS)], rows);
}

function sseSpeed(): string {
  const event = (i: number) =>
    `data: {"id":"gen-1761234567-AbCdEfGhIjKlMnOpQrSt","provider":"OpenAI","model":"openai/gpt-4o-mini","object":"chat.completion.chunk","created":1761234567,"choices":[{"index":0,"delta":{"role":"assistant","content":" word${i}"},"finish_reason":null,"native_finish_reason":null,"logprobs":null}]}\n\n`;
  const events = Array.from({ length: 3000 }, (_, i) => (i % 50 === 0 ? ': OPENROUTER PROCESSING\n\n' : '') + event(i));
  const stream = `${events.join('')}data: [DONE]\n\n`;
  const longLine = `data: {"content":"${'x'.repeat(1024 * 1024 - 40)}"}\n\n`;
  const scenarios: [string, string[]][] = [
    ['OpenRouter stream, 3,000 events (0.9 MB), one event per read', [...events, 'data: [DONE]\n\n']],
    ['the same in 16 KiB reads', inPieces(stream, 16 * 1024)],
    ['the same in 7-character reads', inPieces(stream, 7)],
    ['the same with CRLF, 1 KiB reads', inPieces(stream.replaceAll('\n', '\r\n'), 1024)],
    ['one 1 MiB data line (MAX_RESPONSE_BYTES), 1 KiB reads', inPieces(longLine, 1024)],
    ['one 1 MiB data line, 64-character reads', inPieces(longLine, 64)],
  ];
  const rows = scenarios.map(([name, pieces]) => {
    const [former, ours] = Object.values(SSE_PARSERS);
    // The quadratic cases take seconds a call: fewer rounds there.
    const slow = pieces.length > 500 && pieces[0]!.length < 2000 && !pieces[0]!.includes('\n');
    const ms = race({ former: () => feed(former!, pieces), ours: () => feed(ours!, pieces) }, slow ? 3 : 9, slow ? 0 : 40);
    return [name, fmtMs(ms.former!), fmtMs(ms.ours!), (ms.ours! / ms.former!).toFixed(3)];
  });
  return table(['SSE stream', 'hand-written ms', 'sse.ts ms', 'ratio sse.ts / hand-written'], rows);
}

// ---------------------------------------------------------------- operation limits

/** The parts of graphql-armor used here (loaded only when installed). */
interface ArmorRuleOptions {
  n: number;
  propagateOnRejection?: boolean;
  onReject?: ((context: ValidationContext | null, error: GraphQLError) => void)[];
  flattenFragments?: boolean;
  allowList?: string[];
}
type ArmorRule = (options: ArmorRuleOptions) => ValidationRule;
interface Armor {
  rules: ValidationRule[];
  apolloPreset: (limits: GraphQLLimits) => { plugins: never[]; validationRules: ValidationRule[] };
}

async function loadArmor(limits: GraphQLLimits): Promise<Armor | null> {
  const load = async (name: string) => (await import(name)) as Record<string, unknown>;
  try {
    const [depth, aliases, directives, preset] = await Promise.all(
      ['@escape.tech/graphql-armor-max-depth', '@escape.tech/graphql-armor-max-aliases', '@escape.tech/graphql-armor-max-directives', '@escape.tech/graphql-armor'].map(load),
    );
    // Armor throws out of validate() unless told otherwise; report like any validation rule.
    const onReject = [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)];
    const common = { propagateOnRejection: false, onReject };
    const rules = [
      // Our counting: fragments are no level of their own; every alias counts, __typename too.
      (depth!.maxDepthRule as ArmorRule)({ n: limits.maxDepth, flattenFragments: true, ...common }),
      (aliases!.maxAliasesRule as ArmorRule)({ n: limits.maxAliases, allowList: [], ...common }),
      (directives!.maxDirectivesRule as ArmorRule)({ n: limits.maxDirectives, ...common }),
    ];
    const ApolloArmor = preset!.ApolloArmor as new (config: object) => { protect(): ReturnType<Armor['apolloPreset']> };
    const apolloPreset = (l: GraphQLLimits) =>
      new ApolloArmor({ maxDepth: { n: l.maxDepth }, maxAliases: { n: l.maxAliases }, maxDirectives: { n: l.maxDirectives }, maxTokens: { n: l.maxTokens }, costLimit: { enabled: false } }).protect();
    return { rules, apolloPreset };
  } catch {
    return null;
  }
}

const LIMITS: GraphQLLimits = { maxDepth: 10, maxAliases: 30, maxDirectives: 20, maxTokens: 5000, maxCost: 20_000, maxSubmits: 10 };
const many = (n: number, item: (i: number) => string) => Array.from({ length: n }, (_, i) => item(i)).join(' ');
/** `levels` fragments, each spreading the next twice: 2^levels selections from a few hundred tokens. */
const fanOut = (levels: number) =>
  `{ task(id: "x") { ...F0 } } ${many(levels, (i) => `fragment F${i} on Task { ${i + 1 < levels ? `...F${i + 1} ...F${i + 1}` : 'id'} }`)}`;
const TASK_DETAIL = `query TaskDetail($id: ID!) { task(id: $id) { ...D } }
  fragment S on Task { id type state version progress retryCount maxRetries createdAt updatedAt completedAt }
  fragment D on Task { ...S content result startedAt nextAttemptAt workerId usage { model promptTokens completionTokens totalTokens }
    errors { errorClass message httpStatus attempt at nextAttemptAt } history { state at workerId reason version } }`;

const LIMIT_CASES: [string, string][] = [
  ['web client TaskDetail (fragments)', TASK_DETAIL],
  ['11 levels through a fragment', `{ task(id: "x") { ...F } } fragment F on Task { ${'history { '.repeat(9)}state${' }'.repeat(9)} }`],
  ['12 nested inline fragments (no level of their own)', `{ task(id: "x") { ${'... on Task { '.repeat(12)}id${' }'.repeat(12)} } }`],
  ['30 aliases', `{ ${many(30, (i) => `a${i}: viewer { tenant }`)} }`],
  ['31 aliased __typename', `{ ${many(31, (i) => `t${i}: __typename`)} }`],
  ['16 aliases in a fragment spread twice', `{ viewer { ...V } v: viewer { ...V } } fragment V on Viewer { ${many(16, (i) => `a${i}: tenant`)} }`],
  ['21 directives across a fragment', `{ viewer { ...V @include(if: true) } } fragment V on Viewer { ${'tenant @include(if: true) '.repeat(20)} }`],
  ['11 submitTask', `mutation { ${many(11, (i) => `s${i}: submitTask(input: { content: "Text ${i}." }) { id }`)} }`],
  ['3 × tasks(first: 100) with lists under', `{ ${many(3, (i) => `a${i}: tasks(first: 100) { nodes { id history { state } errors { message } } }`)} }`],
  ['fragment fan-out, 16 levels', fanOut(16)],
  ['fragment fan-out, 40 levels (ours before issue 14: hours)', fanOut(40)],
];

function limitsCorrectness(documents: DocumentNode[], armor: Armor | null): string {
  const schema = createSchema();
  const ours = operationLimitsRule(LIMITS);
  // Only the limit messages: GraphQL's own rules answer the same under both.
  const limitMessages = (document: DocumentNode, rules: ValidationRule[]) => {
    const own = new Set(validate(schema, document, specifiedRules).map((error) => error.message));
    return validate(schema, document, [...specifiedRules, ...rules]).map((error) => error.message).filter((message) => !own.has(message));
  };
  const rows = LIMIT_CASES.map(([name], i) => {
    const document = documents[i]!;
    // Fan-out past 16 levels is where our former walk never ends: measure it only in the speed table.
    return [name, limitMessages(document, [ours]).join('; ') || 'accepted', armor ? limitMessages(document, armor.rules).join('; ') || 'accepted' : 'skipped'];
  });
  return table(['operation (limits 10 / 30 / 20, cost 20,000, 10 submits)', 'limits.ts', 'graphql-armor (depth, aliases, directives)'], rows);
}

function limitsSpeed(documents: DocumentNode[], armor: Armor | null): string {
  const schema = createSchema();
  const ours = operationLimitsRule(LIMITS);
  const rows = LIMIT_CASES.map(([name], i) => {
    const document = documents[i]!;
    const fns: Record<string, () => unknown> = {
      graphql: () => validate(schema, document, specifiedRules),
      ours: () => validate(schema, document, [ours]),
    };
    if (armor) {
      fns.armor = () => validate(schema, document, armor.rules);
      fns.both = () => validate(schema, document, [ours, ...armor.rules]);
    }
    const ms = race(fns);
    const ratio = armor ? ((ms.both! / ms.ours!).toFixed(2)) : 'skipped';
    return [name, fmtMs(ms.graphql!), fmtMs(ms.ours!), armor ? fmtMs(ms.armor!) : 'skipped', armor ? fmtMs(ms.both!) : 'skipped', ratio];
  });
  return table(['operation', "GraphQL's own rules ms", 'limits.ts ms', 'armor 3 rules ms', 'limits.ts + armor ms', 'ratio (limits.ts + armor) / limits.ts'], rows);
}

/** What a client gets over HTTP: our Apollo setup (as in server/app.ts) against armor's preset. */
async function httpAnswers(armor: Armor | null): Promise<string> {
  const schema = createSchema();
  const configs: [string, ConstructorParameters<typeof ApolloServer>[0]][] = [
    ['limits.ts', { schema, validationRules: [operationLimitsRule(LIMITS)], parseOptions: { maxTokens: LIMITS.maxTokens } }],
  ];
  if (armor) configs.push(['ApolloArmor preset', { schema, ...armor.apolloPreset(LIMITS) }]);
  const queries: [string, string][] = [
    ['20 levels deep', `{ task(id: "x") { ${'history { '.repeat(19)}state${' }'.repeat(19)} } }`],
    ['31 aliases', `{ ${many(31, (i) => `a${i}: viewer { tenant }`)} }`],
    ['31 aliased __typename', `{ ${many(31, (i) => `t${i}: __typename`)} }`],
    ['6,000 tokens', `{ viewer { ${'tenant '.repeat(6000)} } }`],
    ['a syntax error', '{ viewer { '],
  ];
  const rows: string[][] = [];
  for (const [label, config] of configs) {
    const server = new ApolloServer(config);
    await server.start();
    for (const [name, query] of queries) {
      const response = await server.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: 'POST', headers: new HeaderMap([['content-type', 'application/json']]), search: '', body: { query } },
        context: async () => ({}),
      });
      const body = JSON.parse(response.body.kind === 'complete' ? response.body.string : '{}') as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
      const first = body.errors?.[0];
      rows.push([label, name, String(response.status ?? 200), first ? `${first.extensions?.code}: ${first.message.split('\n')[0]}` : 'data (accepted)']);
    }
    await server.stop();
  }
  return table(['server', 'request', 'status', 'first error'], rows);
}

// ---------------------------------------------------------------- main

const armor = await loadArmor(LIMITS);
console.log(`# Library evaluation (Node ${process.version}${armor ? ', graphql-armor installed' : ', graphql-armor not installed: its columns skipped'})\n`);
console.log(`${sseCorrectness()}\n\n${sseSpeed()}\n`);
const documents = LIMIT_CASES.map(([, query]) => parse(query, { maxTokens: LIMITS.maxTokens }));
console.log(`${limitsCorrectness(documents, armor)}\n\n${limitsSpeed(documents, armor)}\n\n${await httpAnswers(armor)}`);
