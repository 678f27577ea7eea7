--[[
  finishOutcomes(prefix, keys, now, wakeMax, wakeAlso, args, first): applies the outcomes of
  claimed jobs (worked out by queue/outcome.ts) given in args from index `first`: the number of
  plain completions (a one-off job that succeeded: `completed`, its attempts, run_at and error
  kept), then 2 values for each (id, claimed attempts), then the other outcomes, 7 values each:
  id, claimed attempts, new status (completed | queued | failed), run_at ('' keeps the job's),
  attempts to store, error mode (keep | clear | set), error ('' unless set). `keys` holds the
  leases, lanes and wake keys. Returns the number of outcomes recorded. The plain completions
  are applied first: the order does not matter, as two outcomes of one attempt cannot both count.

  An outcome counts only while its job is still `processing` with the attempts it was claimed
  with (a fencing token): a worker whose lease ran out cannot overwrite a newer attempt, and a
  call sent again after a dropped connection changes nothing the second time. A job that ends
  frees its unique key; one queued again (a retry) wakes an idle worker when it is due, as do
  `wakeAlso` more (jobs of names with a concurrency limit ended, so a slot is free).
  Needs the includes call-in-chunks, push-wake-tokens, release-key and running.
]]
local function finishOutcomes(prefix, keys, now, wakeMax, wakeAlso, args, first)
  local recorded, due = 0, 0
  local released = {} -- ids whose lease ends
  local finished = {} -- status key -> { now, id, now, id, ... }
  local lanes = {}

  local function apply(id, attempts, status, runAt, nextAttempts, errorMode, errorText)
    local key = prefix .. ':job:' .. id
    -- What every outcome needs; the concurrency key, lane and run_at are read when needed.
    local job = redis.call('HMGET', key, 'status', 'attempts', 'name', 'counted', 'key')
    if job[1] ~= 'processing' or job[2] ~= attempts then
      return
    end
    released[#released + 1] = id
    if job[4] ~= '0' then
      countRunningOf(prefix, job[3], redis.call('HGET', key, 'ckey'), job[4], -1)
    end
    redis.call('HSET', key, 'status', status, 'attempts', nextAttempts, 'updated_at', now)
    if errorMode == 'set' then
      redis.call('HSET', key, 'last_error', errorText)
    elseif errorMode == 'clear' then
      redis.call('HDEL', key, 'last_error')
    end
    if status == 'queued' then
      local lane, storedRunAt = unpack(redis.call('HMGET', key, 'lane', 'run_at'))
      if runAt == '' then
        runAt = storedRunAt
      else
        redis.call('HSET', key, 'run_at', runAt)
      end
      redis.call('ZADD', prefix .. ':lane:' .. lane, runAt, id)
      lanes[lane] = true
      if tonumber(runAt) <= tonumber(now) then
        due = due + 1
      end
    else
      local statusKey = prefix .. ':status:' .. status .. ':' .. job[3]
      local entries = finished[statusKey] or {}
      entries[#entries + 1] = now
      entries[#entries + 1] = id
      finished[statusKey] = entries
      releaseKeyOf(prefix, id, job[3], job[5])
    end
    recorded = recorded + 1
  end

  local others = first + 1 + 2 * tonumber(args[first])
  for i = first + 1, others - 1, 2 do
    apply(args[i], args[i + 1], 'completed', '', args[i + 1], 'keep', '')
  end
  for i = others, #args, 7 do
    apply(args[i], args[i + 1], args[i + 2], args[i + 3], args[i + 4], args[i + 5], args[i + 6])
  end

  callInChunks('ZREM', keys.leases, released)
  for statusKey, entries in pairs(finished) do
    callInChunks('ZADD', statusKey, entries)
  end
  for lane in pairs(lanes) do
    redis.call('SADD', keys.lanes, lane)
  end
  pushWakeTokens(keys.wake, due + wakeAlso, wakeMax)
  return recorded
end
