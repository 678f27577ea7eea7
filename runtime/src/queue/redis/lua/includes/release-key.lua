--[[
  releaseKeyOf(prefix, id, name, key): a job that leaves the live states (queued, processing)
  frees its unique key (`key`, false for none), unless another job has taken the key since (then
  the key is that job's). releaseKey(prefix, id, name) reads the job's key first.
]]
local function releaseKeyOf(prefix, id, name, key)
  if key then
    local keys = prefix .. ':keys:' .. name
    if redis.call('HGET', keys, key) == id then
      redis.call('HDEL', keys, key)
    end
  end
end

local function releaseKey(prefix, id, name)
  releaseKeyOf(prefix, id, name, redis.call('HGET', prefix .. ':job:' .. id, 'key'))
end
