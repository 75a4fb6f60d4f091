/**
 * The fair dispatcher's pick and claim (docs/dispatch.md): `taskDispatch`, a free slot's pick
 * and claim in one round trip. The capped slots and parked tickets it shares with
 * `dispatchRelease` and the tenant policy scripts (the Lua fragment `SLOTS`) are in
 * dispatch-slots.ts.
 *
 * A job on either queue is a ticket: the slot that runs it asks `taskDispatch` for the best
 * admissible task, whichever task the job was queued for. A ticket for a task that is not in a
 * line yet (a due retry, a lease that ran out, a hand-back) first puts that task in its
 * tenant's retry line. A ticket that finds work waiting but none of it admissible is parked
 * (counted in `\towed`) and given back as a job when something frees: a capped tenant's attempt
 * ends, a tenant is resumed, or the moment comes when a lease-held slot or the provider tokens
 * free up (the reply says when; the runner queues a delayed job for it).
 */
import { DEFAULT_WEIGHT, DispatchField, READY_ORDER_DIGITS, TenantField } from '../dispatch.ts';
import { CLAIM, decodeClaimedTask, type ClaimedTask } from './claim.ts';
import { LINE_KEYS, LINE_TEMPLATES, LINES, RUNNING_TEMPLATE } from './dispatch-lines.ts';
import { SLOT_KEYS, SLOTS } from './dispatch-slots.ts';
import { defineTaskScript, replyList } from './kit/define.ts';
import { TASK_TEMPLATES } from './kit/templates.ts';

// The worker's and the server's stores build this script's keys with slotKeys, imported from here.
export { slotKeys } from './dispatch-slots.ts';

const STATE = 'DISPATCH_STATE_KEY';

/** What a ticket found: a task claimed for it, nothing waiting, or work waiting that may not start yet. */
export type DispatchOutcome =
  | ({ status: 'claimed'; taskId: string; capped: boolean } & ClaimedTask)
  | { status: 'idle' }
  /** Parked: given back when something frees; `wakeAt` (ms) when a time is known (a lease, tokens). */
  | { status: 'parked'; wakeAt: number | null }
  /** Its pick limit ran out skipping held tenants and stale entries: the ticket was queued again. */
  | { status: 'again' };

/** Besides the outcome: the ticket's own task was running under a live lease, or not due yet. */
export type TicketNote = { kind: 'busy'; until: number } | { kind: 'early'; until: number } | null;

/**
 * taskDispatch: a free slot's ticket. First the ticket's own task joins its tenant's retry line
 * if it is due and in none (a due retry or deferral, a lease that ran out, a hand-back, an
 * operator's retry, or an older job's task); then the best admissible task is claimed for the
 * slot (`claim_task`): the listed tenant with the smallest tag (ties: older work) that is not
 * paused or at its cap, its retry or new line by RETRY_RATIO (smooth weighted round robin), the
 * head of that line; the tenant's tag moves by the task's cost over its weight. With a provider
 * token limit (`tokenCapacity` per `tokenWindowMs`; '' for none) the head waits until its cost
 * fits (or the bucket is full, for a task larger than the bucket).
 * Replies {'claimed', version, attempt, content, type, tenant, retryCount, maxRetries, trace,
 * queuedAt, waitReason, waitSince, fromState, taskId, capped, chain} | {'idle'} | {'parked', wakeAt | ''} | {'again'} (the ticket is queued again as a
 * job of its own), then the note on the ticket's own
 * task: 'busy' or 'early' and until when, or ''.
 */
export const dispatch = defineTaskScript({
  // The ticket's task is only read and put in its line: its events, output and slices are not passed.
  shared: 'picked',
  // The task it picks waits (PENDING, SCHEDULED) or lost its lease (ACTIVE); a claim starts it
  // or, with its retries spent by stalls, files it in the dead letter queue as STALLED.
  states: ['PENDING', 'SCHEDULED', 'ACTIVE', 'DLQ'],
  dlqClasses: ['STALLED'],
  keys: [...LINE_KEYS, ...SLOT_KEYS],
  args: ['leaseToken', 'leaseMs', 'ticketTaskId', 'ticketLane', 'retryRatio', 'priorityOffsetMs', 'tokenCapacity', 'tokenWindowMs', 'maxPicks', 'wakeJob'],
  templates: [...TASK_TEMPLATES, ...LINE_TEMPLATES, RUNNING_TEMPLATE],
  uses: [LINES, SLOTS, CLAIM],
  body: `
local now = now_ms()
local note, note_at = '', ''
local function reply(outcome)
  outcome[#outcome + 1] = note
  outcome[#outcome + 1] = note_at
  flush_stats()
  return outcome
end

-- 1. The ticket's own task.
if TICKET_LANE ~= '' and TICKET_TASK_ID ~= '' then
  local t = redis.call('HMGET', TASK_KEY, 'state', 'tenant', 'queued', 'nextAttemptAt', 'leaseExpiresAt', 'cost', 'order', 'priority', 'reopens')
  local state = t[1]
  if state and (not t[3] or t[3] == '') then
    local due = state == 'PENDING' or (state == 'SCHEDULED' and tonumber(t[4] or '0') <= now)
      or (state == 'ACTIVE' and tonumber(t[5] or '0') <= now)
    if due then
      -- A first run keeps its submit order; anything else joins the retry line when it comes due.
      local lane, order = 'new', tonumber(t[7] or '0')
      if TICKET_LANE == 'retry' or state ~= 'PENDING' or (t[9] and t[9] ~= '0') then
        lane, order = 'retry', now * 1000 + order % 1000
      end
      enqueue_task(t[2], lane, t[6] or '1', TICKET_TASK_ID, priority_order(order, t[8], PRIORITY_OFFSET_MS))
      redis.call('HSET', TASK_KEY, 'queued', lane, 'queuedAt', now)
      count('dispatch_queued:' .. t[2] .. ':' .. (t[8] or 'NORMAL'))
    elseif state == 'SCHEDULED' then note, note_at = 'early', t[4]
    elseif state == 'ACTIVE' then note, note_at = 'busy', t[5] end
  end
end

-- 2. The pick. Each pass takes the smallest tag; a tenant held, or found without work, leaves
-- the ready set and the next pass takes the next one.
local capacity = TOKEN_CAPACITY ~= '' and tonumber(TOKEN_CAPACITY) or nil
if capacity then
  -- The head of the line is waiting for tokens: so does this ticket, without a pick.
  local wait_until = tonumber(redis.call('HGET', ${STATE}, '${DispatchField.TOKENS_WAIT_UNTIL}') or '0') or 0
  if wait_until > now then
    redis.call('HINCRBY', ${STATE}, '${DispatchField.OWED}', 1)
    return reply({'parked', str(wait_until)})
  end
end
for pick = 1, MAX_PICKS + 0 do
  local top = redis.call('ZPOPMIN', READY_KEY)
  if #top == 0 then
    if tonumber(redis.call('HGET', ${STATE}, '${DispatchField.BLOCKED}') or '0') <= 0 then return reply({'idle'}) end
    free_due(now)
    if redis.call('ZCARD', READY_KEY) == 0 then
      redis.call('HINCRBY', ${STATE}, '${DispatchField.OWED}', 1)
      local wake = redis.call('ZRANGE', CAP_WAKE_KEY, 0, 0, 'WITHSCORES')
      return reply({'parked', wake[2] or ''})
    end
  else
    local tag, tenant = top[2] + 0, string.sub(top[1], ${READY_ORDER_DIGITS} + 2)
    local f = redis.call('HMGET', ${STATE}, tenant_field(tenant, '${TenantField.WEIGHT}'), tenant_field(tenant, '${TenantField.CAP}'),
      tenant_field(tenant, '${TenantField.PAUSED}'), tenant_field(tenant, '${TenantField.RETRIES}'), tenant_field(tenant, '${TenantField.CREDIT}'),
      '${DispatchField.OWED}', '${DispatchField.BLOCKED}', '${DispatchField.TOKENS}', '${DispatchField.TOKENS_AT}')
    if (f[7] or '0') + 0 > 0 then free_due(now) end
    local cap = (f[2] or '0') + 0
    local live, earliest = 0, nil
    if cap > 0 then live, earliest = live_slots(tenant, now) end
    if (f[3] == '1' or (cap > 0 and live >= cap)) and not head_of(tenant) then
      -- Held, but with nothing waiting (a stale listing): it simply leaves, like an empty line.
      redis.call('HSET', ${STATE}, tenant_field(tenant, '${TenantField.LISTED}'), '', tenant_field(tenant, '${TenantField.TAG}'), fmt(tag))
    elseif f[3] == '1' then
      hold_tenant(tenant, 'paused', tag, nil)
    elseif cap > 0 and live >= cap then
      hold_tenant(tenant, 'cap', tag, earliest)
    else
      -- Which line: retries at RETRY_RATIO while both have work (smooth weighted round robin).
      local retries, lane, credit = (f[4] or '0') + 0, 'new', nil
      if retries > 0 then
        if redis.call('ZCARD', line_of('new', tenant)) == 0 then
          lane = 'retry'
        else
          credit = tonumber(f[5] or '0') + 2 * tonumber(RETRY_RATIO) - 1
          if credit > 0 then lane, credit = 'retry', credit - 1 else credit = credit + 1 end
        end
      end
      local line = line_of(lane, tenant)
      local head = redis.call('ZPOPMIN', line)
      if #head == 0 and retries > 0 then
        -- The count was off (it is kept beside the line, not read from it): the other line.
        lane = lane == 'retry' and 'new' or 'retry'
        line, credit = line_of(lane, tenant), nil
        head = redis.call('ZPOPMIN', line)
        redis.call('HSET', ${STATE}, tenant_field(tenant, '${TenantField.RETRIES}'), redis.call('ZCARD', line_of('retry', tenant)) + (lane == 'retry' and #head / 2 or 0))
      end
      if #head == 0 then
        -- A listed tenant whose work is gone (done, cancelled): it leaves until it has more.
        redis.call('HSET', ${STATE}, tenant_field(tenant, '${TenantField.LISTED}'), '', tenant_field(tenant, '${TenantField.TAG}'), fmt(tag))
        if redis.call('ZCARD', READY_KEY) == 0 then redis.call('HSET', ${STATE}, '${DispatchField.VIRTUAL_TIME}', fmt(tag)) end
      else
        local member, prio = head[1], head[2] + 0
        local bar = string.find(member, '|', 1, true)
        local cost, id = string.sub(member, 1, bar - 1) + 0, string.sub(member, bar + 1)
        local tokens = nil
        if capacity then
          tokens = math.min(capacity, tonumber(f[8] or capacity) + (now - tonumber(f[9] or now)) * capacity / tonumber(TOKEN_WINDOW_MS))
          if tokens < cost and tokens < capacity then
            -- The head waits for tokens, in its place: nothing behind it passes.
            redis.call('ZADD', line, head[2], member)
            redis.call('ZADD', READY_KEY, top[2], top[1])
            local wait_until = now + math.ceil((math.min(cost, capacity) - tokens) * tonumber(TOKEN_WINDOW_MS) / capacity)
            redis.call('HSET', ${STATE}, '${DispatchField.TOKENS}', fmt(tokens), '${DispatchField.TOKENS_AT}', now, '${DispatchField.TOKENS_WAIT_UNTIL}', wait_until)
            redis.call('HINCRBY', ${STATE}, '${DispatchField.OWED}', 1)
            return reply({'parked', str(wait_until)})
          end
        end
        -- The shared task keys point at the task picked (here, not in a helper: a closure of a
        -- dozen locals made on every call cost more than these lines).
        TASK_KEY, EVENTS_KEY, OUTPUT_KEY = key_of(TASK_TEMPLATE, id), key_of(EVENTS_TEMPLATE, id), key_of(OUTPUT_TEMPLATE, id)
        TENANT_ALL_KEY = key_of(SLICE_TEMPLATE, tenant, ALL_KEY)
        -- Only the slices a transition touches (the old state's and the new one's), when it touches them.
        TENANT_INDEX = setmetatable({}, { __index = function(slices, state)
          local key = key_of(SLICE_TEMPLATE, tenant, INDEX[state])
          rawset(slices, state, key)
          return key
        end })
        TENANT = tenant
        local task = read_task()
        local weight = (f[1] or '${DEFAULT_WEIGHT}') + 0
        local extra = { capped = cap > 0 and '1' or false }
        if capacity then extra.tokensHeld = cost end
        if lane == 'retry' then redis.call('HINCRBY', ${STATE}, tenant_field(tenant, '${TenantField.RETRIES}'), -1) end
        if credit then redis.call('HSET', ${STATE}, tenant_field(tenant, '${TenantField.CREDIT}'), fmt(credit)) end
        local priority = task and task.priority or 'NORMAL'
        -- Counted in the claim's own commit (one write of the stats hash).
        local function on_claim()
          count('dispatch_starts:' .. tenant .. ':' .. priority)
          count('dispatch_tokens:' .. tenant, cost)
          if capacity then count('dispatch_tokens_reserved', cost) end
          if task.queuedAt then observe('dispatch_wait', now - task.queuedAt) end
        end
        local outcome = task and claim_task(task, extra, on_claim) or {'missing'}
        if outcome[1] == 'claimed' then
          -- The tenant stays listed at its new tag; an empty line is noticed at its next turn.
          redis.call('ZADD', READY_KEY, fmt(tag + cost / weight), ready_member(prio, tenant))
          if capacity then
            redis.call('HSET', ${STATE}, '${DispatchField.TOKENS}', fmt(tokens - cost), '${DispatchField.TOKENS_AT}', now, '${DispatchField.TOKENS_WAIT_UNTIL}', '')
          end
          if cap > 0 then redis.call('ZADD', running_of(tenant), task.leaseExpiresAt, id .. ':' .. outcome[3]) end
          if (f[6] or '0') + 0 > 0 then give_back(1, id .. ':' .. outcome[3]) end
          outcome[#outcome + 1] = id
          outcome[#outcome + 1] = cap > 0 and '1' or '0'
          outcome[#outcome + 1] = task.chain or ''
          return reply(outcome)
        end
        -- Not claimable after all (running under a live lease, not due, finished, gone): out of
        -- its line, and the tenant keeps its tag for its next task. (A start counts its task out
        -- of the line by \`dispatch_starts\` alone: one counter fewer on every start.)
        count('dispatch_dequeued:' .. tenant .. ':' .. priority)
        if task then redis.call('HSET', TASK_KEY, 'queued', '') end
        redis.call('ZADD', READY_KEY, top[2], top[1])
      end
    end
  end
end
-- The picks ran out passing over held tenants and stale entries: this ticket goes back as a
-- job of its own, so the demand it stands for is not lost.
push_tickets(1, 'again:' .. LEASE_TOKEN)
return reply({'again'})
`,
  decode(raw): { outcome: DispatchOutcome; note: TicketNote } {
    const values = replyList(raw);
    const [noteKind, noteAt] = values.slice(-2);
    const note: TicketNote = noteKind === 'busy' || noteKind === 'early' ? { kind: noteKind, until: Number(noteAt) } : null;
    const [status, version] = values;
    const [taskId, capped, chain] = values.slice(13);
    let outcome: DispatchOutcome;
    if (status === 'claimed') {
      outcome = { status, taskId: taskId!, ...decodeClaimedTask(values), capped: capped === '1', chain: chain || null };
    } else if (status === 'parked') {
      outcome = { status, wakeAt: version ? Number(version) : null };
    } else {
      outcome = { status: status === 'idle' ? 'idle' : 'again' };
    }
    return { outcome, note };
  },
});
