--[[
  The ids of the jobs a listing may contain, read at one moment: finished jobs from their status
  indexes (already filtered by updated_at), queued jobs from their lanes, processing jobs from
  the leases. The caller reads the records and checks status, name and updated_at on them.

    Input:
      KEYS[1] lanes        set of lane ids that hold queued jobs
      KEYS[2] leases       sorted set: processing job id -> lease_until
      KEYS[3] names        set of job names that have jobs

      ARGV[1] base         '{<prefix>}', the hash-tagged start of every key, so that the
                           keys built here share KEYS[1]'s slot; lane and status keys are built from it
      ARGV[2] statuses     JSON array of statuses
      ARGV[3] name         only this job name; '' for every name
      ARGV[4] updated_before  finished jobs with updated_at < this; '' for any

    Output:
      the ids, in no particular order
]]
local prefix = ARGV[1]
local name = ARGV[3]
local upper = ARGV[4] == '' and '+inf' or '(' .. ARGV[4]

local allowed = {}
for _, status in ipairs(cjson.decode(ARGV[2])) do
  allowed[status] = true
end

local ids = {}
local function append(list)
  for _, id in ipairs(list) do
    ids[#ids + 1] = id
  end
end

local names = name == '' and redis.call('SMEMBERS', KEYS[3]) or { name }
for _, jobName in ipairs(names) do
  for _, status in ipairs({ 'completed', 'failed', 'cancelled' }) do
    if allowed[status] then
      append(redis.call('ZRANGEBYSCORE', prefix .. ':status:' .. status .. ':' .. jobName, '-inf', upper))
    end
  end
end
if allowed['queued'] then
  for _, lane in ipairs(redis.call('SMEMBERS', KEYS[1])) do
    if name == '' or cjson.decode(lane)[2] == name then -- [queue, name, tags]
      append(redis.call('ZRANGE', prefix .. ':lane:' .. lane, 0, -1))
    end
  end
end
if allowed['processing'] then
  append(redis.call('ZRANGE', KEYS[2], 0, -1))
end

return ids
