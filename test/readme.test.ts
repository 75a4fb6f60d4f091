/** The README and the pages under docs/: their GraphQL examples are valid against the schema the server serves. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createSchema } from '../server/graphql/schema.ts';

const ROOT = join(import.meta.dirname, '..');

/** README.md and every Markdown file under docs/, as paths relative to the repository root. */
function markdownFiles(): string[] {
  const found = ['README.md'];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) found.push(path);
    }
  };
  walk('docs');
  return found.sort();
}

const files = markdownFiles();
const texts = new Map(files.map((file) => [file, readFileSync(join(ROOT, file), 'utf8')]));
const readme = texts.get('README.md')!;
const examples = files.flatMap((file) =>
  [...texts.get(file)!.matchAll(/```graphql\n([\s\S]*?)```/g)].map((match) => ({ file, example: match[1]! })),
);

describe('README and docs', () => {
  it('has GraphQL examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(3);
  });

  it.each(examples.map(({ file, example }) => [`${file}: ${example.split('\n')[0]}`, example]))('%s is valid', (_title, example) => {
    expect(validate(createSchema(), parse(example)).map((error) => error.message)).toEqual([]);
  });

  it('shows the two quick-start commands', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
  });
});
