/**
 * Model chains: the worker's move of a task to another model of its chain (schema/src/model-chain.ts).
 * Script: `taskSwitchModel`. No I/O here.
 */
import { MODEL_SWITCH_TRANSITION } from '../model-chain.ts';
import { defineTaskScript } from './kit/define.ts';
import { decodeWrite } from './lifecycle.ts';

/**
 * switchModel: the lease holder ends a failed attempt and moves the task on in its chain: the
 * task waits `retryDelayMs` (SCHEDULED, reason RETRY_DELAY), the error is recorded, its `chain`
 * field becomes `chain` (where the next attempt starts, and why), and a retry is counted only
 * with `countRetry` '1' (the whole chain has failed once). The transition's reason is
 * 'switched model' for a switch that counts no retry, else `reason` (the error class). The
 * caller has checked the task may still be retried when it counts one (else it fails it).
 * KEYS: none besides the task's.   ARGV: leaseToken, error (JSON), retryDelayMs, countRetry
 * ('1' or '0'), chain (the new `chain` field), switchReason (counted as model_switches:<reason>;
 * '' for none), reason.
 * Replies {'ok', version, nextAttemptAt} | {'stale', state}.
 */
export const switchModel = defineTaskScript({
  states: ['ACTIVE', 'SCHEDULED'],
  keys: [],
  args: ['leaseToken', 'error', 'retryDelayMs', 'countRetry', 'chain', 'switchReason', 'reason'],
  body: `
local task = read_task()
if not task then return stale('MISSING') end
if not holds_lease(task, LEASE_TOKEN) then return stale(task.state) end
local failure = cjson.decode(ERROR)
count('failed:' .. failure.errorClass)
if SWITCH_REASON ~= '' then count('model_switches:' .. SWITCH_REASON) end
local now = now_ms()
failure.at = now
local next_attempt_at = now + tonumber(RETRY_DELAY_MS)
failure.nextAttemptAt = next_attempt_at
local changes = { state = 'SCHEDULED', leaseToken = false, leaseExpiresAt = false, waitReason = 'RETRY_DELAY',
  nextAttemptAt = next_attempt_at, chain = CHAIN, errors = with_error(task, cjson.encode(failure)) }
local reason = '${MODEL_SWITCH_TRANSITION}'
if COUNT_RETRY == '1' then
  changes.retryCount = tonumber(task.retryCount) + 1
  reason = REASON
end
return {'ok', commit(task, changes, 'transition', reason), str(next_attempt_at)}
`,
  decode: decodeWrite,
});
