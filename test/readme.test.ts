/**
 * The README and the pages under docs/: their GraphQL examples are valid against the schema the
 * server serves, and every relative link and image points to a file (and heading) that exists.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
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

/** Markdown with fenced code blocks blanked out (line numbers kept): links and headings there are not links or headings. */
function withoutCode(markdown: string): string {
  let fence: string | undefined;
  return markdown
    .split('\n')
    .map((line) => {
      const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
      if (marker && (!fence || (marker[0] === fence[0] && marker.length >= fence.length))) {
        fence = fence ? undefined : marker;
        return '';
      }
      return fence ? '' : line;
    })
    .join('\n');
}

/**
 * The anchors GitHub gives a file's headings: the heading's text, lowercased, with every character
 * but letters, digits, spaces, '-' and '_' dropped, each space turned into '-'; a repeated slug
 * gets -1, -2, ... (github-slugger's rules).
 */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, heading] of withoutCode(markdown).matchAll(/^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/gm)) {
    const text = heading!
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link or image: its text
      .replace(/<[^>]+>/g, ''); // HTML tags
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** Every link and image target in a Markdown file, outside code: [text](target), ![alt](target), [ref]: target, src= and href=. */
function linkTargets(markdown: string): string[] {
  const text = withoutCode(markdown).replace(/`[^`\n]*`/g, 'code');
  return [
    ...[...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => match[1]!),
    ...[...text.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((match) => match[1]!),
    ...[...text.matchAll(/<(?:img|a|source)\b[^>]*?\s(?:src|href)=["']([^"']+)["']/gi)].map((match) => match[1]!),
  ];
}

/** What is wrong with one link target of `file` (a path relative to the repository root), or undefined. */
function brokenLink(file: string, target: string): string | undefined {
  if (/^[a-z][a-z\d+.-]*:/i.test(target)) return undefined; // https:, mailto:, ...: not ours to check
  const hash = target.indexOf('#');
  const path = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
  const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
  const absolute = path === '' ? join(ROOT, file) : path.startsWith('/') ? join(ROOT, path) : resolve(ROOT, dirname(file), path);
  const inRepo = relative(ROOT, absolute);
  if (inRepo.startsWith('..')) return `${target}: outside the repository`;
  if (!existsSync(absolute)) return `${target}: no such file (${inRepo})`;
  if (!statSync(absolute).isFile()) return `${target}: not a file (${inRepo})`;
  if (anchor !== undefined && absolute.endsWith('.md') && !headingAnchors(readFileSync(absolute, 'utf8')).has(anchor)) {
    return `${target}: no heading with the anchor #${anchor} in ${inRepo}`;
  }
  return undefined;
}

describe('links in README and docs', () => {
  const links = files.map((file) => ({ file, targets: linkTargets(texts.get(file)!) }));

  it('finds the links (the checks below are not vacuous)', () => {
    const count = (file: string) => links.find((entry) => entry.file === file)!.targets.length;
    expect(count('README.md')).toBeGreaterThanOrEqual(10);
    expect(count('docs/README.md')).toBeGreaterThanOrEqual(10);
    expect(count('docs/web-app.md')).toBeGreaterThanOrEqual(8); // the screenshots
  });

  it.each(links.map(({ file, targets }) => [file, targets]))('every relative link and image of %s resolves', (file, targets) => {
    expect(targets.flatMap((target) => brokenLink(file, target) ?? [])).toEqual([]);
  });

  it('slugs headings as GitHub does', () => {
    const anchors = headingAnchors('# Redis keys (prefix `REDIS_KEY_PREFIX`, default `atf`)\n## What "nothing lost" means\n## Logs\n## Logs\n```sh\n# not a heading\n```\n');
    expect([...anchors]).toEqual(['redis-keys-prefix-redis_key_prefix-default-atf', 'what-nothing-lost-means', 'logs', 'logs-1']);
  });

  it('catches a missing file, a missing anchor and a link out of the repository', () => {
    expect(brokenLink('docs/README.md', 'nowhere.md')).toMatch(/no such file/);
    expect(brokenLink('docs/README.md', 'api.md#no-such-heading')).toMatch(/no heading/);
    expect(brokenLink('docs/README.md', '../../outside.md')).toMatch(/outside the repository/);
    expect(brokenLink('docs/README.md', 'screenshots/dashboard.png')).toBeUndefined();
  });
});

describe('the task state diagram', () => {
  it('is the same in README.md and docs/reliability.md', () => {
    const diagram = (file: string) => /```mermaid\n([\s\S]*?)```/.exec(texts.get(file)!)?.[1];
    expect(diagram('README.md')).toContain('stateDiagram-v2');
    expect(diagram('docs/reliability.md')).toBe(diagram('README.md'));
  });
});
