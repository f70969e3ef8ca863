-- wrk script: each thread GETs the paths of its own slice of the file named by the first argument
-- (the second argument is wrk's thread count), in turn. Slices are disjoint, so an instance sees
-- one request per pass over its slice, never two threads at the same moment.
local threads = {}
local paths = {}
local i = 0

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

function init(args)
  local all = {}
  for line in io.lines(args[1]) do all[#all + 1] = line end
  local n = tonumber(args[2]) or 1
  local k = thread_index or 0
  local first = math.floor(#all * k / n) + 1
  local last = math.floor(#all * (k + 1) / n)
  for j = first, last do paths[#paths + 1] = all[j] end
end

function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
