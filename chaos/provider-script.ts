/**
 * What the fake provider answers during a chaos run: about 5 % errors of retryable and
 * permanent kinds, and 0-250 ms of latency before the answer.
 */
import { defaultAnswer, errorAnswer, type FakeAnswer, type FakeScript, type RecordedRequest } from '../tools/fake-openrouter.ts';

/** The chaos answers, drawing from `random` (the run's seeded generator). */
export function chaosProviderScript(random: () => number): FakeScript {
  return (request: RecordedRequest): FakeAnswer => {
    const roll = random();
    const delayMs = Math.floor(random() * 250);
    if (roll < 0.025) return { ...errorAnswer(503, 'No instances available'), delayMs };
    if (roll < 0.04) return { ...errorAnswer(502, 'Bad gateway'), delayMs };
    if (roll < 0.045) return { status: 200, body: '{"choices": [', delayMs };
    if (roll < 0.05) return { ...errorAnswer(400, 'Invalid request'), delayMs };
    return { ...defaultAnswer(request), delayMs };
  };
}
