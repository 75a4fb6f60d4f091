import { describe, expect, it } from 'vitest';
import type { CallUsage } from '../../schema/src/usage.ts';
import { countLocalTokens, createLocalSummarizer, guessLanguage, summarizeExtractively } from './local-summarizer.ts';

const ENGLISH = [
  'Redis is an in-memory data store that many teams use as a database, cache and message broker.',
  'The weather was pleasant on Tuesday.',
  'Job queues built on Redis lists are popular because pushing and popping a Redis list is atomic.',
  'My cousin likes tea.',
  'Redis persistence uses snapshots or an append-only file, and the append-only file can sync every second.',
  'The cafe closed early.',
  'Sorted sets in Redis keep delayed jobs in time order, so a queue can promote due jobs cheaply.',
  'Nobody answered the phone.',
].join(' ');

describe('summarizeExtractively', () => {
  it('keeps the sentences about the main topic, in their original order', () => {
    const summary = summarizeExtractively(ENGLISH);
    const sentences = summary.split(/(?<=\.)\s/);
    expect(sentences).toHaveLength(3);
    for (const sentence of sentences) expect(sentence).toMatch(/Redis/);
    const positions = sentences.map((s) => ENGLISH.indexOf(s));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  });

  it('is deterministic', () => {
    expect(summarizeExtractively(ENGLISH)).toBe(summarizeExtractively(ENGLISH));
  });

  it('answers in the input language, including scripts without spaces', () => {
    const spanish =
      'El mercado abrió temprano. Los agricultores trajeron tomates, pimientos y cebollas del valle. ' +
      'Los tomates del valle son famosos por su sabor. Llovió un poco. Los compradores pagaron más por los tomates del valle.';
    expect(guessLanguage(spanish.toLowerCase().split(/\W+/))).toBe('es');
    const summary = summarizeExtractively(spanish);
    expect(summary.split('. ').length).toBe(2);
    expect(summary).toMatch(/tomates/);

    const japanese = '東京は日本の首都です。東京には多くの人が住んでいます。東京の電車はとても便利です。昨日は雨でした。';
    const jaSummary = summarizeExtractively(japanese);
    expect(jaSummary).toMatch(/^東京/);
    expect(jaSummary).not.toContain(' ');
  });

  it('returns short inputs whole', () => {
    expect(summarizeExtractively('Just one sentence here.')).toBe('Just one sentence here.');
    expect(summarizeExtractively('No punctuation at all')).toBe('No punctuation at all');
  });
});

describe('createLocalSummarizer', () => {
  it('reports progress and honours an aborted signal', async () => {
    const provider = createLocalSummarizer();
    const progress: number[] = [];
    const pieces: string[] = [];
    const messages = [{ role: 'user' as const, content: ENGLISH }];
    const result = await provider.complete({ messages, signal: new AbortController().signal, onProgress: (p) => progress.push(p), onText: (text) => pieces.push(text) });
    expect(result.usage).toBeNull();
    expect(progress.length).toBeGreaterThan(0);
    // Streamed a sentence at a time; the pieces add up to the summary.
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe(result.text);
    expect(result.text).toBe(summarizeExtractively(ENGLISH));
    await expect(
      provider.complete({ messages, signal: AbortSignal.abort(new Error('cancelled')), onProgress: () => undefined, onText: () => undefined }),
    ).rejects.toThrow('cancelled');
  });
});

describe('countLocalTokens', () => {
  it('counts ICU word-like segments: words and numbers, not spaces or punctuation', () => {
    expect(countLocalTokens('Hello, world! 42')).toBe(3);
    expect(countLocalTokens("Don't stop: it's e-mail.")).toBe(5);
    expect(countLocalTokens('  ...  ')).toBe(0);
    expect(countLocalTokens('')).toBe(0);
  });

  it('counts dictionary words in scripts without spaces', () => {
    // 東京 / は / 日本 / の / 首都 / です
    expect(countLocalTokens('東京は日本の首都です。')).toBe(6);
  });
});

describe('local summarizer usage', () => {
  const noop = () => undefined;

  it('reports once, at $0, the text it read and the summary it wrote in its own tokens', async () => {
    const usages: CallUsage[] = [];
    const messages = [
      { role: 'system' as const, content: 'Summarize the text the user sends.' },
      { role: 'user' as const, content: ENGLISH },
    ];
    const result = await createLocalSummarizer().complete({ messages, signal: new AbortController().signal, onProgress: noop, onText: noop, onUsage: (u) => usages.push(u) });
    expect(usages).toEqual([
      {
        model: 'local',
        generationId: null,
        // Only the text it reads: the instructions are not read, so not counted.
        promptTokens: countLocalTokens(ENGLISH),
        completionTokens: countLocalTokens(result.text),
        cachedTokens: 0,
        reasoningTokens: 0,
        costUsd: 0,
        estimated: false,
      },
    ]);
    expect(usages[0]!.completionTokens).toBeGreaterThan(0);
  });

  it('reports a call cancelled mid-answer (what it wrote so far), and none for one cancelled before it began', async () => {
    const usages: CallUsage[] = [];
    const controller = new AbortController();
    const pieces: string[] = [];
    const onText = (piece: string) => {
      pieces.push(piece);
      controller.abort(new Error('cancelled'));
    };
    const messages = [{ role: 'user' as const, content: ENGLISH }];
    await expect(createLocalSummarizer().complete({ messages, signal: controller.signal, onProgress: noop, onText, onUsage: (u) => usages.push(u) })).rejects.toThrow('cancelled');
    expect(usages).toEqual([expect.objectContaining({ promptTokens: countLocalTokens(ENGLISH), completionTokens: countLocalTokens(pieces.join('')), costUsd: 0 })]);

    const none: CallUsage[] = [];
    await expect(
      createLocalSummarizer().complete({ messages, signal: AbortSignal.abort(new Error('cancelled')), onProgress: noop, onText: noop, onUsage: (u) => none.push(u) }),
    ).rejects.toThrow('cancelled');
    expect(none).toEqual([]);
  });
});
