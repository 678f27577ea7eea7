--[[
  Counts jobs by name and status: finished ones from their status indexes, queued ones from
  their lanes, processing ones from the leases (as many as the workers run).

    Input:
      KEYS[1] lanes        set of lane ids that hold queued jobs
      KEYS[2] leases       sorted set: processing job id -> lease_until
      KEYS[3] names        set of job names that have jobs

      ARGV[1] base         '{<prefix>}', the hash-tagged start of every key, so that the
                           keys built here share KEYS[1]'s slot; job, lane and status keys are built from it

    Output:
      { name_1, status_1, count_1, name_2, ... } without zero counts, in no particular order
]]
local prefix = ARGV[1]
local reply = {}

local function add(name, status, count)
  if count > 0 then
    reply[#reply + 1] = name
    reply[#reply + 1] = status
    reply[#reply + 1] = count
  end
end

for _, name in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  for _, status in ipairs({ 'completed', 'failed', 'cancelled' }) do
    add(name, status, redis.call('ZCARD', prefix .. ':status:' .. status .. ':' .. name))
  end
end

local queued = {}
for _, lane in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local name = cjson.decode(lane)[2] -- [queue, name, tags]
  queued[name] = (queued[name] or 0) + redis.call('ZCARD', prefix .. ':lane:' .. lane)
end
for name, count in pairs(queued) do
  add(name, 'queued', count)
end

local processing = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local name = redis.call('HGET', prefix .. ':job:' .. id, 'name')
  if name then
    processing[name] = (processing[name] or 0) + 1
  end
end
for name, count in pairs(processing) do
  add(name, 'processing', count)
end

return reply
