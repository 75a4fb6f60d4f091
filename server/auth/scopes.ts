/**
 * What a key lets its holder do, and who a request acts as. The tenant comes from the key
 * only; an admin key is an operator's and sees every tenant.
 */
export const Scope = { TASKS_WRITE: 'tasks:write', TASKS_READ: 'tasks:read', ADMIN: 'admin' } as const;
export type Scope = (typeof Scope)[keyof typeof Scope];
export const SCOPES: readonly Scope[] = Object.values(Scope);

/** Tenant names are part of Redis keys: keep them to a safe alphabet. */
export const TENANT_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** The tenant every caller belongs to while authentication is off. */
export const ANONYMOUS_TENANT = 'default';
export const ANONYMOUS_ACTOR = 'anonymous';

export interface Caller {
  tenant: string;
  /** The acting key's id (never the key), or 'anonymous'; recorded in history and the audit log. */
  actor: string;
  scopes: ReadonlySet<Scope>;
}

export const anonymousCaller = (): Caller => ({ tenant: ANONYMOUS_TENANT, actor: ANONYMOUS_ACTOR, scopes: new Set(SCOPES) });

export const isAdmin = (caller: Caller): boolean => caller.scopes.has(Scope.ADMIN);

/** Whether `caller` may see a task of `tenant`: its own, or any with the admin scope. */
export const canSee = (caller: Caller, tenant: string): boolean => caller.tenant === tenant || isAdmin(caller);
