-- Mixed API traffic for t/015-reload.t: in turn a cached GET of a video,
-- a list page, a PATCH of the thread's own video (its title carries a
-- counter), and a view post.  Run with one connection per thread, so a
-- response belongs to the thread's last request.  Arguments (after --):
-- the API key, the file the figures are written to, the id of the
-- cached video, of the viewed video, and the prefix of the PATCHed
-- videos' ids (the thread's number, 10 digits, follows).
--
-- The file gets one "name value" line per figure: status:<kind>:<code>
-- counts answers by kind, patch_acked:<n> and patch_sent:<n> the last
-- counter a 2xx answered and the last one sent for thread n.

local threads = {}
local counter = 1

function setup(thread)
    thread:set("id", counter)
    counter = counter + 1
    table.insert(threads, thread)
end

function init(args)
    key = args[1]
    out_file = args[2]
    cached = args[3]
    viewed = args[4]
    prefix = args[5]
    mine = string.format("%s%010d", prefix, id)
    n = 0
    kind = nil
    patch_sent = 0
    patch_acked = 0
    pending_patch = 0
    statuses = {}
    headers = { ["Authorization"] = "Bearer " .. key,
                ["Content-Type"] = "application/json" }
end

function request()
    n = n + 1
    local k = n % 4

    if k == 0 then
        kind = "get"
        return wrk.format("GET", "/api/videos/" .. cached, headers)
    elseif k == 1 then
        kind = "list"
        return wrk.format("GET", "/api/videos?limit=5", headers)
    elseif k == 2 then
        kind = "patch"
        patch_sent = patch_sent + 1
        pending_patch = patch_sent
        return wrk.format("PATCH", "/api/videos/" .. mine, headers,
                          string.format('{"title":"w%d-%d"}', id, patch_sent))
    else
        kind = "view"
        return wrk.format("POST", "/api/analytics/view/" .. viewed, headers)
    end
end

function response(status, hdrs, body)
    local name = kind .. ":" .. status
    statuses[name] = (statuses[name] or 0) + 1

    if kind == "patch" and status >= 200 and status < 300 then
        patch_acked = pending_patch
    end
end

function done(summary, latency, requests)
    local out = io.open(threads[1]:get("out_file") or "/dev/null", "w")
    local total = {}

    for _, t in ipairs(threads) do
        local s = t:get("statuses")
        for name, c in pairs(s) do
            total[name] = (total[name] or 0) + c
        end
        out:write(string.format("patch_acked:%d %d\n", t:get("id"),
                                t:get("patch_acked")))
        out:write(string.format("patch_sent:%d %d\n", t:get("id"),
                                t:get("patch_sent")))
    end

    for name, c in pairs(total) do
        out:write(string.format("status:%s %d\n", name, c))
    end

    local e = summary.errors
    out:write(string.format("requests %d\n", summary.requests))
    out:write(string.format("errors_connect %d\n", e.connect))
    out:write(string.format("errors_read %d\n", e.read))
    out:write(string.format("errors_write %d\n", e.write))
    out:write(string.format("errors_timeout %d\n", e.timeout))
    out:write(string.format("errors_status %d\n", e.status))
    out:close()
end
