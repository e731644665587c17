-- Say DONE after a fixed number of responses (wrk -t1): the caller then ends wrk, so every
-- server does the same work whatever its speed or the machine's load.
local limit = tonumber(os.getenv("WRK_REQUESTS") or "20000")
local seen = 0
response = function(status, headers, body)
  seen = seen + 1
  if seen == limit then
    io.write("DONE\n")
    io.flush()
    wrk.thread:stop()
  end
end
