/**
 * Every task script by name: the one map common/task-script-runner.ts registers with ioredis
 * (`defineCommand`) and the contract test checks. The families:
 *   kit/          the kit, no script: define.ts (defineTaskScript, the bindings), shared.ts (the
 *                 shared keys and arguments), templates.ts, helper-pruning.ts, call.ts (taskScriptCall)
 *   prelude.ts    the Lua every script starts with: the clock, counters, commit()
 *   api.ts        taskCreate, taskCancel, taskReopen, taskDelete
 *   lifecycle.ts  taskClaim, taskRenew, taskRelease, taskProgress, taskComplete, taskFail, taskDefer
 *   output.ts     taskAppendOutput; emit_output, the output framing and its parsers
 *   usage.ts      taskRecordUsage; record_call (RECORD_CALL, shared with taskComplete); the usage
 *                 counters' fields, the pending-call record
 *   budgets.ts    budgetReserve, budgetRelease; the budget fields, periods and keys
 *   held.ts       taskReleaseHold (a held task made due now: schema/src/holds.ts)
 *   dispatch-lines.ts   the dispatcher's lines (LINES), shared by create, reopen, cancel, delete, claim
 *   dispatch.ts         taskDispatch (a free slot's pick and claim)
 *   dispatch-slots.ts   dispatchRelease; capped slots and parked tickets (SLOTS), shared by dispatch and tenant policy
 *   dispatch-positions.ts  dispatchPositions (read-only: where waiting tasks stand)
 *   tenant-policy.ts    tenantPolicySet, dispatchSweep
 *   model-breakers.ts   modelBreakerRecord, modelBreakerProbe, modelBreakersReset, modelBreakersForceOpen
 *   model-chain.ts      taskSwitchModel (a task moved on in its model chain)
 */
import { create, cancel, reopen, remove } from './api.ts';
import { budgetRelease, budgetReserve, BUDGET } from './budgets.ts';
import { releaseHold } from './held.ts';
import { claim, CLAIM } from './claim.ts';
import { complete, defer, fail, progress, release, renew } from './lifecycle.ts';
import { LINES } from './dispatch-lines.ts';
import { appendOutput, EMIT_OUTPUT } from './output.ts';
import { recordUsage, RECORD_CALL } from './usage.ts';
import { dispatch } from './dispatch.ts';
import { dispatchRelease, SLOTS } from './dispatch-slots.ts';
import { dispatchPositions } from './dispatch-positions.ts';
import { dispatchSweep, tenantPolicySet } from './tenant-policy.ts';
import { forceOpenModelBreakers, MODEL_BREAKER, probeModel, recordModelCall, resetModelBreakers } from './model-breakers.ts';
import { switchModel } from './model-chain.ts';
import type { LuaFragment } from './kit/define.ts';

export const TASK_SCRIPTS = {
  taskCreate: create,
  taskClaim: claim,
  taskRenew: renew,
  taskRelease: release,
  taskProgress: progress,
  taskComplete: complete,
  taskAppendOutput: appendOutput,
  taskFail: fail,
  taskDefer: defer,
  taskCancel: cancel,
  taskReopen: reopen,
  taskDelete: remove,
  taskRecordUsage: recordUsage,
  budgetReserve,
  budgetRelease,
  taskDispatch: dispatch,
  dispatchRelease,
  dispatchPositions,
  dispatchSweep,
  tenantPolicySet,
  taskReleaseHold: releaseHold,
  modelBreakerRecord: recordModelCall,
  modelBreakerProbe: probeModel,
  modelBreakersReset: resetModelBreakers,
  modelBreakersForceOpen: forceOpenModelBreakers,
  taskSwitchModel: switchModel,
} as const;
export type TaskScripts = typeof TASK_SCRIPTS;
export type TaskScriptName = keyof TaskScripts;

/** Every family's Lua fragment (a script includes the ones it calls: the contract test checks). */
export const LUA_FRAGMENTS: readonly LuaFragment[] = [EMIT_OUTPUT, BUDGET, LINES, SLOTS, CLAIM, MODEL_BREAKER, RECORD_CALL];
