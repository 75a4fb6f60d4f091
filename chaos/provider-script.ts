/**
 * What the fake provider answers during a chaos run: about 5 % errors of retryable and
 * permanent kinds, and 0-250 ms of latency before the answer. A streaming task (its text holds
 * STREAMING_TAG) gets its answer streamed slowly, in 10-30 pieces over 1-2 s, and 3 % more of
 * its calls break off mid-stream (the next attempt starts the text over). Its text is new for
 * every call (the key and the call's number, then phrases in several scripts, with emoji,
 * combining marks, tabs, new lines and at times leading or trailing white space), so text
 * from another attempt, or a byte lost at a piece's edge, cannot go unnoticed.
 */
import { defaultAnswer, errorAnswer, streamedAnswer, type FakeAnswer, type FakeScript, type RecordedRequest } from '../tools/fake-openrouter.ts';

/** In a task's text: answer it slowly, as a stream. */
export const STREAMING_TAG = '[streaming]';

const PHRASES = [
  'Redis keeps the queue in memory and appends every write to its log.',
  'Ein Überblick über Warteschlangen — kurz & bündig.',
  'Un résumé : la file d’attente reste atomique.',
  '日本語の要約です。キューは原子的に動きます。',
  'Ελληνικά: η ουρά είναι ατομική.',
  'مرحبا بالعالم، هذا ملخص قصير.',
  'Emoji survive the stream 🚀🧵✅.',
  'A family 👩‍👩‍👧 and a flag 🇫🇷 are single glyphs of many code points.',
  'Combining marks: e\u0301 a\u0308 n\u0303.',
  'Tabs\tand  double  spaces stay as they are.',
  'A new line\nand another,\n\nthen a paragraph.',
  'Quotes "double" and \'single\', a back\\slash and <angle> brackets & ampersands.',
];

/** The chaos answers, drawing from `random` (the run's seeded generator). */
export function chaosProviderScript(random: () => number): FakeScript {
  const callsByKey = new Map<string, number>();
  return (request: RecordedRequest): FakeAnswer => {
    const roll = random();
    const delayMs = Math.floor(random() * 250);
    if (roll < 0.025) return { ...errorAnswer(503, 'No instances available'), delayMs };
    if (roll < 0.04) return { ...errorAnswer(502, 'Bad gateway'), delayMs };
    if (roll < 0.045) return { status: 200, body: '{"choices": [', delayMs };
    if (roll < 0.05) return { ...errorAnswer(400, 'Invalid request'), delayMs };
    const content = userText(request);
    if (!content.includes(STREAMING_TAG)) return { ...defaultAnswer(request), delayMs };

    const key = /\[(chaos-\d+)\]/.exec(content)?.[1] ?? 'unknown';
    const call = (callsByKey.get(key) ?? 0) + 1;
    callsByKey.set(key, call);
    const chunks = 10 + Math.floor(random() * 21);
    const pieceDelayMs = Math.round((1000 + random() * 1000) / chunks);
    const answer = { ...streamedAnswer(request, { chunks, delayMs: pieceDelayMs, text: streamedText(key, call, random) }), delayMs };
    // Events: a keep-alive, the pieces, the end, [DONE]. Breaking after 2..chunks cuts the text.
    if (roll < 0.08) return { ...answer, breakAfterEvents: 2 + Math.floor(random() * (chunks - 1)) };
    return answer;
  };
}

function userText(request: RecordedRequest): string {
  const body = request.body as { messages?: { role: string; content: string }[] } | null;
  return body?.messages?.find((message) => message.role === 'user')?.content ?? '';
}

/** A new text for each call of a streaming task. */
function streamedText(key: string, call: number, random: () => number): string {
  const parts = [`${key}, call ${call}:`];
  const count = 4 + Math.floor(random() * 6);
  for (let i = 0; i < count; i += 1) parts.push(PHRASES[Math.floor(random() * PHRASES.length)]!);
  let text = parts.join(random() < 0.3 ? '  ' : ' ');
  // The worker trims the result and holds back white space it may trim: these must not leak.
  if (random() < 0.2) text = `\n  ${text}`;
  if (random() < 0.2) text = `${text} \n`;
  return text;
}
