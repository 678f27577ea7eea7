--[[
  releaseKey(prefix, id, name): a job that leaves the live states (queued, processing) frees its
  unique key, unless another job has taken the key since (then the key is that job's).
]]
local function releaseKey(prefix, id, name)
  local key = redis.call('HGET', prefix .. ':job:' .. id, 'key')
  if key then
    local keys = prefix .. ':keys:' .. name
    if redis.call('HGET', keys, key) == id then
      redis.call('HDEL', keys, key)
    end
  end
end
