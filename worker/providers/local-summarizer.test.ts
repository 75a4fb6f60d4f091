import { describe, expect, it } from 'vitest';
import { createLocalSummarizer, guessLanguage, summarizeExtractively } from './local-summarizer.ts';

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
