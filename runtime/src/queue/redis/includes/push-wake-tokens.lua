--[[
  pushWakeTokens(key, count, max): wakes up to `count` idle workers (at most `max`) by pushing
  tokens to the wake list they block on, and keeps the list to `max` tokens so that tokens
  nobody waited for do not pile up.
]]
local function pushWakeTokens(key, count, max)
  if count <= 0 then
    return
  end
  local tokens = {}
  for i = 1, math.min(count, max) do
    tokens[i] = '1'
  end
  redis.call('LPUSH', key, unpack(tokens))
  redis.call('LTRIM', key, 0, max - 1)
end
