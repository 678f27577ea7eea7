--[[
  Records the outcomes of claimed jobs. An outcome counts only while its job is still
  `processing` with the attempts it was claimed with (a fencing token): a worker whose lease ran
  out cannot overwrite a newer attempt, and a call sent again after a dropped connection changes
  nothing the second time.

  Kinds:
    done    the job succeeded and ends `completed`
    again   an interval job succeeded: queued again at run_at, attempts back to 0, error cleared
    retry   the job failed with attempts left: queued again at run_at with the error
    failed  the job failed with no attempts left: ends `failed` with the error (args kept)

    Input:
      KEYS[1] leases       sorted set: processing job id -> lease_until
      KEYS[2] lanes        set of lane ids that hold queued jobs
      KEYS[3] wake         list of wake tokens

      ARGV[1] prefix       key prefix; job, lane and status keys are built from it
      ARGV[2] now          ms since the epoch
      ARGV[3] wake_max     most tokens kept in the wake list
      ARGV[4..] per outcome, 5 values: id, attempts, kind, run_at ('' unless queued again),
                error ('' unless failed)

    Output:
      the number of outcomes recorded
]]
--- @include "push-wake-tokens"
--- @include "call-in-chunks"

local prefix = ARGV[1]
local now = ARGV[2]
local wakeMax = tonumber(ARGV[3])
local FIRST, WIDTH = 4, 5

local recorded, due = 0, 0
local released = {} -- ids whose lease ends
local finished = {} -- status key -> { now, id, now, id, ... }
local lanes = {}

local function index(status, name, id)
  local key = prefix .. ':status:' .. status .. ':' .. name
  local entries = finished[key] or {}
  entries[#entries + 1] = now
  entries[#entries + 1] = id
  finished[key] = entries
end

for i = FIRST, #ARGV, WIDTH do
  local id, attempts, kind = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local key = prefix .. ':job:' .. id
  local job = redis.call('HMGET', key, 'status', 'attempts', 'name', 'lane')
  if job[1] == 'processing' and job[2] == attempts then
    released[#released + 1] = id
    if kind == 'done' then
      redis.call('HSET', key, 'status', 'completed', 'updated_at', now)
      index('completed', job[3], id)
    elseif kind == 'failed' then
      redis.call('HSET', key, 'status', 'failed', 'last_error', ARGV[i + 4], 'updated_at', now)
      index('failed', job[3], id)
    else
      local runAt, lane = ARGV[i + 3], job[4]
      if kind == 'again' then
        redis.call('HSET', key, 'status', 'queued', 'run_at', runAt, 'attempts', '0', 'updated_at', now)
        redis.call('HDEL', key, 'last_error')
      else
        redis.call('HSET', key, 'status', 'queued', 'run_at', runAt, 'last_error', ARGV[i + 4], 'updated_at', now)
      end
      redis.call('ZADD', prefix .. ':lane:' .. lane, runAt, id)
      lanes[lane] = true
      if tonumber(runAt) <= tonumber(now) then
        due = due + 1
      end
    end
    recorded = recorded + 1
  end
end

callInChunks('ZREM', KEYS[1], released)
for key, entries in pairs(finished) do
  callInChunks('ZADD', key, entries)
end
for lane in pairs(lanes) do
  redis.call('SADD', KEYS[2], lane)
end
pushWakeTokens(KEYS[3], due, wakeMax)

return recorded
