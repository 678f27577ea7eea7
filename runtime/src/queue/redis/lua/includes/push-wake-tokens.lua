--[[
  pushWakeTokens(key, count, max): wakes up to `count` idle workers by pushing tokens to the wake
  list they block on, never letting the list grow past `max` tokens, so that tokens nobody
  waited for do not pile up while every worker is busy.
]]
local function pushWakeTokens(key, count, max)
  if count <= 0 then
    return
  end
  local room = math.min(count, max - redis.call('LLEN', key))
  if room <= 0 then
    return
  end
  local tokens = {}
  for i = 1, room do
    tokens[i] = '1'
  end
  redis.call('LPUSH', key, unpack(tokens))
end
