-- wrk script of bench/mixed_load.py: rotates through a prepared list of requests and times each
-- one, so the mixed run gives latencies per request type.
--
-- MIXED_LOAD_REQUESTS=<prefix> MIXED_LOAD_RESULTS=<file> wrk -t2 -s bench/mixed_load.lua <url>
--
-- Each wrk thread reads its own list (<prefix>.<thread number>): one request a line, fields
-- separated by tabs: type, method, path, headers ("Name: value" joined by \31), body (\n as \\n).
-- The lists of two threads share no write (a booking and its cancellation are in the same list,
-- half a list apart), so no request of one thread undoes another's.
--
-- wrk calls response() without saying which request it answers: each request carries a unique
-- X-Request-ID, which the app echoes (apps.core.middleware.RequestIdMiddleware), and the time it
-- was sent is kept under that id. Times come from clock_gettime(CLOCK_MONOTONIC) through LuaJIT's
-- FFI. done() writes one line per response: type, microseconds, status.

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } mixed_load_timespec;
int clock_gettime(int clk_id, mixed_load_timespec *tp);
]])
local timespec = ffi.new("mixed_load_timespec")
local function now_us()
  ffi.C.clock_gettime(1, timespec)
  return tonumber(timespec.tv_sec) * 1000000 + tonumber(timespec.tv_nsec) / 1000
end

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_number", thread_count)
  table.insert(threads, thread)
end

local PLACEHOLDER = "MIXEDLOADREQUESTID"
local heads, tails, kinds, paths = {}, {}, {}, {}
local count, index, sequence = 0, 0, 0
local sent_at, sent_index = {}, {}
results = {}
errors = {}
unmatched = 0

local function split(line, separator)
  local fields = {}
  for field in (line .. separator):gmatch("(.-)" .. separator) do
    table.insert(fields, field)
  end
  return fields
end

function init(args)
  local file = assert(io.open(os.getenv("MIXED_LOAD_REQUESTS") .. "." .. thread_number, "r"))
  for line in file:lines() do
    local fields = split(line, "\t")
    local headers = { ["X-Request-ID"] = PLACEHOLDER }
    for _, header in ipairs(split(fields[4], "\31")) do
      local name, value = header:match("^([^:]+): (.*)$")
      if name then
        headers[name] = value
      end
    end
    local body = fields[5] ~= "" and fields[5]:gsub("\\n", "\n") or nil
    local raw = wrk.format(fields[2], fields[3], headers, body)
    local start, finish = raw:find(PLACEHOLDER, 1, true)
    count = count + 1
    heads[count] = raw:sub(1, start - 1)
    tails[count] = raw:sub(finish + 1)
    kinds[count] = fields[1]
    paths[count] = fields[2] .. " " .. fields[3]
  end
  file:close()
end

function request()
  index = index % count + 1
  sequence = sequence + 1
  local id = string.format("mixedload.%d.%d", thread_number, sequence)
  sent_at[id] = now_us()
  sent_index[id] = index
  return heads[index] .. id .. tails[index]
end

function response(status, headers, body)
  local finished = now_us()
  local id = headers["X-Request-ID"] or headers["x-request-id"]
  if id == nil then
    for name, value in pairs(headers) do
      if name:lower() == "x-request-id" then
        id = value
      end
    end
  end
  local at = id and sent_at[id]
  if at == nil then
    unmatched = unmatched + 1
    if #errors < 5 then
      table.insert(errors, string.format("%d (no request id) %s", status, (body or ""):sub(1, 200)))
    end
    return
  end
  local i = sent_index[id]
  sent_at[id], sent_index[id] = nil, nil
  table.insert(results, string.format("%s\t%d\t%d", kinds[i], math.floor(finished - at), status))
  if status >= 400 and #errors < 5 then
    local text = (body or ""):sub(1, 300):gsub("%s+", " ")
    table.insert(errors, string.format("%d %s %s", status, paths[i], text))
  end
end

function done(summary, latency, requests)
  local out = assert(io.open(os.getenv("MIXED_LOAD_RESULTS"), "w"))
  local socket_errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  out:write(string.format("SUMMARY\t%d\t%d\t%d\t%d\t%d\t%d\n", summary.requests, summary.duration,
    socket_errors, latency:percentile(50), latency:percentile(95), latency:percentile(99)))
  for _, thread in ipairs(threads) do
    for _, line in ipairs(thread:get("results")) do
      out:write("R\t", line, "\n")
    end
    for _, line in ipairs(thread:get("errors")) do
      out:write("E\t", line, "\n")
    end
    out:write(string.format("U\t%d\n", thread:get("unmatched")))
  end
  out:close()
end
