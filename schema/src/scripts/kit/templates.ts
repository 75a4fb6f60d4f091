/**
 * Key templates: the key families a script fills in itself, when it learns inside which task or
 * tenant it works on (the dispatcher picks the task a slot runs). redis-keys.ts builds each
 * template with NUL where the task id or tenant goes and SOH where a base key goes (a tenant
 * slice); the call passes them last in ARGV (call.ts) and the Lua fills them with `key_of`
 * alone (prelude.ts), so every key name still comes from redis-keys.ts.
 */
import type { RedisKeys } from '../../redis-keys.ts';

/**
 * A key family a script fills in itself: `build` gives the family's name with NUL (`\u0000`)
 * where the id or tenant goes, and SOH (`\u0001`) where a base key goes (tenant slices). The
 * Lua sees it as the local `lua` and builds keys only with `key_of(template, value, base)`,
 * which fills one NUL and at most one SOH before it (the contract test checks every template).
 */
export interface KeyTemplate {
  readonly lua: string;
  build(keys: RedisKeys): string;
}

/** Where a template's value (NUL) and base key (SOH) go. */
export const TEMPLATE_VALUE = '\u0000';
export const TEMPLATE_BASE = '\u0001';

/** The key a template gives for `value` (and `base`): what `key_of` does in Lua, for tests and readers. */
export function keyOf(template: string, value: string, base = ''): string {
  return template.split(TEMPLATE_VALUE).join(value).split(TEMPLATE_BASE).join(base);
}

/** The templates of the task keys a script may move to (the dispatcher points the shared task names at the task it picks). */
export const TASK_TEMPLATES: readonly KeyTemplate[] = [
  { lua: 'TASK_TEMPLATE', build: (keys) => keys.task(TEMPLATE_VALUE) },
  { lua: 'EVENTS_TEMPLATE', build: (keys) => keys.taskEvents(TEMPLATE_VALUE) },
  { lua: 'OUTPUT_TEMPLATE', build: (keys) => keys.taskOutput(TEMPLATE_VALUE) },
  { lua: 'SLICE_TEMPLATE', build: (keys) => keys.tenantSlice(TEMPLATE_BASE, TEMPLATE_VALUE) },
];
