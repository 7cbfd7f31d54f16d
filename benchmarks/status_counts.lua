-- wrk script of `make bench`: sends each request with the next session cookie of a file (one
-- `Cookie` header value a line, its path the first argument after `--`), and counts the answers by
-- status, printed after wrk's own report as lines `status <code> <count>` (benchmarks/wrk.py reads them).
-- With a second argument, answers whose body contains that text are counted apart too, as lines
-- `marked <code> <count>` (e.g. the stale-if-error pages among the 200s).
-- wrk runs one Lua state per thread: `setup` keeps the threads, so `done` can add up their counts.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  cookies = {}
  if args[1] then
    for line in io.lines(args[1]) do
      if line ~= "" then
        table.insert(cookies, line)
      end
    end
  end
  marker = args[2]
  counts = {}
  marked = {}
  next_cookie = 0
end

function request()
  if #cookies == 0 then
    return wrk.format()
  end
  next_cookie = next_cookie % #cookies + 1
  local headers = {}
  for name, value in pairs(wrk.headers) do
    headers[name] = value
  end
  headers["Cookie"] = cookies[next_cookie]
  return wrk.format(nil, nil, headers)
end

function response(status, headers, body)
  local key = tostring(status)
  counts[key] = (counts[key] or 0) + 1
  if marker and body and string.find(body, marker, 1, true) then
    marked[key] = (marked[key] or 0) + 1
  end
end

function done(summary, latency, requests)
  for _, name in ipairs({"status", "marked"}) do
    local total = {}
    for _, thread in ipairs(threads) do
      for code, count in pairs(thread:get(name == "status" and "counts" or "marked")) do
        total[code] = (total[code] or 0) + count
      end
    end
    for code, count in pairs(total) do
      io.write(string.format("%s %s %d\n", name, code, count))
    end
  end
end
