-- wrk: GET /health, the HTTP core's ceiling (no store read, no JSON of a row).
request = function()
  return wrk.format("GET", "/health")
end
