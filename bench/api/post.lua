-- wrk: POST /api/leaves {"url": ...} with a url never posted before (per thread, per request).
local counter = 0
local tid = 0
local run = os.getenv("RUN") or "r"
setup = function(thread)
  tid = tid + 1
  thread:set("tid", tid)
end
request = function()
  counter = counter + 1
  local body = string.format('{"url":"https://bench.example.org/%s/%d/%d"}', run, tid or 0, counter)
  return wrk.format("POST", "/api/leaves", {["Content-Type"] = "application/json"}, body)
end
