/**
 * The embedded, offline summarizer used when no OpenRouter key is set: extractive
 * summarization by TF-IDF sentence scoring. Deterministic, and in the input's own language
 * because it only ever picks the input's sentences. Sentence and word boundaries come from
 * ICU (Intl.Segmenter), which also splits Chinese, Japanese and Thai correctly.
 */
import type { CallUsage } from '../../schema/src/usage.ts';
import { lastUserText, type CompletionRequest, type CompletionResult, type TextProvider } from './provider.ts';

/** Small stop-word lists: enough to keep function words from dominating the scores. */
const STOP_WORDS: Record<string, readonly string[]> = {
  en: 'a an and are as at be been but by for from had has have he her his i if in into is it its more most of on or our she so than that the their them then there these they this to was we were what when which who will with would you your not no can could also'.split(' '),
  es: 'a al algo como con de del el ella ellos en era es esta este fue ha hay la las le lo los más mas me mi no o para pero por que se sin sobre su sus también un una uno y ya'.split(' '),
  fr: 'a au aux avec ce ces cette dans de des du elle en est et il ils je la le les leur lui mais me ne nous on ou par pas pour qu que qui sa se ses son sur un une vous y été être'.split(' '),
  de: 'aber als am an auch auf aus bei bin bis das dass dem den der des die du ein eine einem einen einer es für hat ich ihr im in ist ja kann mit nach nicht noch nur oder sich sie sind so über um und uns von vor war wie wir zu zum zur'.split(' '),
  it: 'a al alla anche che chi ci come con da dal dei del della di e è gli ha i il in la le lo ma mi ne nel non per più si sono su tra un una uno'.split(' '),
  pt: 'a ao aos as com como da das de do dos e é ela ele em entre era foi há mais mas na nas no nos o os ou para pela pelo por que se sem seu sua também um uma'.split(' '),
  nl: 'aan al als bij dat de den der die dit door een en er had heb heeft het hij in is je maar met naar niet nog of om ook op te tot uit van voor was wat we wel zijn zo'.split(' '),
  ru: 'а без бы был была были было в во вот все вы да для до его ее если есть еще же за и из или им их к как ко когда ли меня мы на над не него нет ни но о об он она они от по под при с со так также то только у уже что это я'.split(' '),
};
const STOP_SETS = Object.fromEntries(Object.entries(STOP_WORDS).map(([lang, words]) => [lang, new Set(words)]));

const sentenceSegmenter = new Intl.Segmenter(undefined, { granularity: 'sentence' });
const wordSegmenter = new Intl.Segmenter(undefined, { granularity: 'word' });
// Scripts written without spaces between sentences.
const NO_SPACE_SCRIPT = /[\u3040-\u30FF\u3400-\u9FFF\uF900-\uFAFF\u0E00-\u0E7F]/;

export interface ExtractiveSummaryOptions {
  /** Sentences to keep from inputs of at least `longInputSentences` sentences. Default 3. */
  maxSentences?: number;
  /** Default 8; shorter inputs keep 2 sentences. */
  longInputSentences?: number;
}

function wordsOf(sentence: string): string[] {
  const words: string[] = [];
  for (const segment of wordSegmenter.segment(sentence)) {
    if (segment.isWordLike) words.push(segment.segment.toLocaleLowerCase());
  }
  return words;
}

/** The language whose stop words the text uses most, or null when none fits. */
export function guessLanguage(words: readonly string[]): string | null {
  let best: string | null = null;
  let bestHits = 0;
  for (const [lang, stops] of Object.entries(STOP_SETS)) {
    const hits = words.reduce((count, word) => count + (stops.has(word) ? 1 : 0), 0);
    if (hits > bestHits) {
      best = lang;
      bestHits = hits;
    }
  }
  return bestHits >= 2 ? best : null;
}

/** Picks the 2-3 most informative sentences of `text`, in their original order. */
export function summarizeExtractively(text: string, options: ExtractiveSummaryOptions = {}): string {
  return summarySentences(text, options).join(joinerFor(text)) || text.trim();
}

/** The sentences of the extractive summary of `text`, in order (none for a text without any). */
export function summarySentences(text: string, options: ExtractiveSummaryOptions = {}): string[] {
  const sentences = Array.from(sentenceSegmenter.segment(text), (s) => s.segment.trim()).filter((s) => s.length > 0);
  const maxSentences = sentences.length >= (options.longInputSentences ?? 8) ? (options.maxSentences ?? 3) : 2;
  if (sentences.length <= maxSentences) return sentences;

  const sentenceWords = sentences.map(wordsOf);
  const stops = STOP_SETS[guessLanguage(sentenceWords.flat()) ?? ''] ?? new Set<string>();
  const isContentWord = (word: string) => !stops.has(word) && !/^\p{N}+$/u.test(word) && (word.length > 1 || NO_SPACE_SCRIPT.test(word));
  const content = sentenceWords.map((words) => words.filter(isContentWord));

  // Term frequency over the whole text; document frequency over sentences.
  const termFrequency = new Map<string, number>();
  const documentFrequency = new Map<string, number>();
  for (const words of content) {
    for (const word of words) termFrequency.set(word, (termFrequency.get(word) ?? 0) + 1);
    for (const word of new Set(words)) documentFrequency.set(word, (documentFrequency.get(word) ?? 0) + 1);
  }
  const maxFrequency = Math.max(1, ...termFrequency.values());
  const scores = content.map((words, index) => {
    if (words.length === 0) return 0;
    let sum = 0;
    for (const word of new Set(words)) {
      const tf = termFrequency.get(word)! / maxFrequency;
      const idf = Math.log(1 + sentences.length / documentFrequency.get(word)!);
      sum += tf * idf;
    }
    // Normalise by length so long sentences do not win by size alone; the opening
    // sentence usually states the topic, so it gets a small bonus.
    return (sum / Math.sqrt(words.length)) * (index === 0 ? 1.15 : 1);
  });

  const chosen = scores
    .map((score, index) => ({ score, index }))
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, maxSentences)
    .map(({ index }) => index)
    .sort((a, b) => a - b);
  return chosen.map((index) => sentences[index]!);
}

function joinerFor(text: string): string {
  return NO_SPACE_SCRIPT.test(text) ? '' : ' ';
}

/**
 * The embedded summarizer's tokens: the word-like segments ICU finds (Intl.Segmenter, word
 * granularity), so punctuation and spaces count for nothing, and Chinese, Japanese or Thai are
 * counted in dictionary words, not characters.
 */
export function countLocalTokens(text: string): number {
  let tokens = 0;
  for (const segment of wordSegmenter.segment(text)) if (segment.isWordLike) tokens += 1;
  return tokens;
}

/** The model name the embedded summarizer reports its usage under. */
export const LOCAL_MODEL = 'local';

/**
 * The embedded provider. It only summarizes (it reads the last user message and no
 * instructions), and streams its summary a sentence at a time as it picks them: no pacing,
 * it is as fast as it is. Its usage (`onUsage`, once per call begun, a cancelled one included)
 * costs $0: the prompt is the text it reads, the completion what it wrote, in its own tokens
 * (countLocalTokens). `CompletionResult.usage` stays null, as before.
 */
export function createLocalSummarizer(options: ExtractiveSummaryOptions = {}): TextProvider {
  return {
    name: 'local',
    async complete(request: CompletionRequest): Promise<CompletionResult> {
      request.signal.throwIfAborted();
      const content = lastUserText(request.messages);
      let written = '';
      const write = (piece: string) => {
        written += piece;
        request.onText(piece);
      };
      try {
        request.onProgress(0.2);
        const sentences = summarySentences(content, options);
        const joiner = joinerFor(content);
        const text = sentences.join(joiner) || content.trim();
        if (sentences.length === 0) write(text);
        for (const [index, sentence] of sentences.entries()) {
          write(index === 0 ? sentence : joiner + sentence);
          request.signal.throwIfAborted();
        }
        request.onProgress(0.9);
        return { text, usage: null };
      } finally {
        request.onUsage?.(localUsage(content, written));
      }
    },
  };
}

function localUsage(prompt: string, completion: string): CallUsage {
  return {
    model: LOCAL_MODEL,
    generationId: null,
    promptTokens: countLocalTokens(prompt),
    completionTokens: countLocalTokens(completion),
    cachedTokens: 0,
    reasoningTokens: 0,
    costUsd: 0,
    estimated: false,
  };
}
