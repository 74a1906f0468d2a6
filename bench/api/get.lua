-- wrk: GET /api/leaves/{id} over ids read from the file in IDS (one a line), at random.
local ids = {}
for line in io.lines(os.getenv("IDS")) do ids[#ids + 1] = line end
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/api/leaves/" .. ids[math.random(#ids)])
end
