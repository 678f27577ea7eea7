--[[
  finishOutcomes(prefix, keys, now, wakeMax, wakeAlso, args, first): applies the outcomes of
  claimed jobs (worked out by queue/outcome.ts), 7 values each in args from index `first`: id,
  claimed attempts, new status (completed | queued | failed), run_at ('' keeps the job's),
  attempts to store, error mode (keep | clear | set), error ('' unless set). `keys` holds the
  leases, lanes and wake keys. Returns the number of outcomes recorded.

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

  for i = first, #args, 7 do
    local id, attempts, status, runAt = args[i], args[i + 1], args[i + 2], args[i + 3]
    local nextAttempts, errorMode = args[i + 4], args[i + 5]
    local key = prefix .. ':job:' .. id
    local job = redis.call('HMGET', key, 'status', 'attempts', 'name', 'lane', 'run_at', 'ckey', 'key', 'counted')
    if job[1] == 'processing' and job[2] == attempts then
      released[#released + 1] = id
      countRunningOf(prefix, job[3], job[6], job[8], -1)
      redis.call('HSET', key, 'status', status, 'attempts', nextAttempts, 'updated_at', now)
      if errorMode == 'set' then
        redis.call('HSET', key, 'last_error', args[i + 6])
      elseif errorMode == 'clear' then
        redis.call('HDEL', key, 'last_error')
      end
      if status == 'queued' then
        if runAt == '' then
          runAt = job[5]
        else
          redis.call('HSET', key, 'run_at', runAt)
        end
        redis.call('ZADD', prefix .. ':lane:' .. job[4], runAt, id)
        lanes[job[4]] = true
        if tonumber(runAt) <= tonumber(now) then
          due = due + 1
        end
      else
        local statusKey = prefix .. ':status:' .. status .. ':' .. job[3]
        local entries = finished[statusKey] or {}
        entries[#entries + 1] = now
        entries[#entries + 1] = id
        finished[statusKey] = entries
        releaseKeyOf(prefix, id, job[3], job[7])
      end
      recorded = recorded + 1
    end
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
