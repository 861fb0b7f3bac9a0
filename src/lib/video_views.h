/*
 * View counters in Redis, as the module (counting, reading, resets) and
 * the analytics worker (rollups into PostgreSQL) share them.
 *
 * Keys ("<day>" is YYYY-MM-DD and "<month>" YYYY-MM, both UTC):
 *
 *   video:ids                set of the ids of every video
 *   video:ids:complete       present when video:ids holds every video
 *                            (the worker fills the set, then sets this)
 *   views:d:<day>            hash id -> views of that day
 *   views:m:<month>          hash id -> views of that month
 *   views:t                  hash id -> views of all time
 *   views:u:<day>:<id>       HyperLogLog of the video's viewers that day
 *   views:gd:<day>           how many times that day was reset (absent: 0)
 *   views:gm:<month>         how many times that month was reset
 *   views:pending            hash "<day>:<id>" -> views not yet rolled up
 *   views:batch:<hex>        views:pending renamed by a rollup
 *   views:batches            set of the batch keys a rollup has taken
 *   views:loaded             present when the counters include what
 *                            PostgreSQL holds (the worker seeds them)
 *   views:seeded             hash of the ids seeded so far
 *
 * A new day or month starts at zero because its keys are new.  A reset
 * unlinks the day's (or month's) hash, one O(1) command whatever the
 * number of videos (Redis frees it in the background), and increments its
 * reset count, which tells the worker to zero PostgreSQL's copies.
 */

#ifndef _VIDEO_VIEWS_H_INCLUDED_
#define _VIDEO_VIEWS_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define VIDEO_IDS_KEY            "video:ids"
#define VIDEO_IDS_COMPLETE_KEY   "video:ids:complete"
#define VIDEO_VIEWS_LOADED_KEY   "views:loaded"

/* seconds the keys of a day and of a month outlive their period */
#define VIDEO_VIEWS_DAY_TTL      "259200"
#define VIDEO_VIEWS_MONTH_TTL    "3024000"


/*
 * The existence check every per-video script starts with: ARGV[1] is
 * the id, ARGV[4] "1" when the caller found the video in PostgreSQL (it
 * is then added to the set).  Returns -1 for an unknown video, -2 when
 * the set is not complete and the caller has to ask PostgreSQL.
 */
#define VIDEO_VIEWS_LUA_EXISTS                                                \
    "local id, day, month = ARGV[1], ARGV[2], ARGV[3] "                       \
    "if redis.call('SISMEMBER', 'video:ids', id) == 0 then "                  \
    " if ARGV[4] ~= '1' then "                                                \
    "  if redis.call('EXISTS', 'video:ids:complete') == 1 then "              \
    "   return -1 "                                                           \
    "  end "                                                                  \
    "  return -2 "                                                            \
    " end "                                                                   \
    " redis.call('SADD', 'video:ids', id) "                                   \
    "end "                                                                    \
    "local dk, mk = 'views:d:' .. day, 'views:m:' .. month "                  \
    "local uk = 'views:u:' .. day .. ':' .. id "


/*
 * Whether the caller may see the video, for the scripts that take an id:
 * the last two ARGV are the caller's account and role as conf/sql's
 * video_readable() takes them ("admin" or "token": no check).  The rule
 * is applied to the cached video object (decoded, not searched as text):
 * -1 for a PRIVATE video of another account, as for an unknown one; -3
 * when no cached copy says (the module then reads the video itself).
 */
#define VIDEO_VIEWS_LUA_SCOPE                                                 \
    "local ca, cr = ARGV[#ARGV - 1], ARGV[#ARGV] "                            \
    "if cr ~= 'admin' and cr ~= 'token' then "                                \
    " local e = redis.call('GET', 'video:' .. id) "                           \
    " local j = e and string.match(e, '^%d+:(.+)$') "                         \
    " if not j then return -3 end "                                           \
    " local ok, v = pcall(cjson.decode, j) "                                  \
    " if not ok or type(v) ~= 'table' "                                       \
    "    or type(v['accountId']) ~= 'string' then "                           \
    "  return -3 "                                                            \
    " end "                                                                   \
    " if v['visibility'] == 'PRIVATE' and v['accountId'] ~= ca then "         \
    "  return -1 "                                                            \
    " end "                                                                   \
    "end "


/*
 * Counts a view.  ARGV: id, day, month, known, viewer (a keyed hash of
 * the client, never the address itself), then the caller (SCOPE).
 * Returns 1, or as EXISTS and SCOPE.
 */
#define VIDEO_VIEWS_COUNT_LUA                                                 \
    VIDEO_VIEWS_LUA_EXISTS                                                    \
    VIDEO_VIEWS_LUA_SCOPE                                                     \
    "redis.call('HINCRBY', 'views:t', id, 1) "                                \
    "redis.call('HINCRBY', 'views:pending', day .. ':' .. id, 1) "            \
    "if redis.call('PFADD', uk, ARGV[5]) == 1 "                               \
    "   and redis.call('TTL', uk) < 0 then "                                  \
    " redis.call('EXPIRE', uk, " VIDEO_VIEWS_DAY_TTL ") "                     \
    "end "                                                                    \
    "if redis.call('HINCRBY', dk, id, 1) == 1 "                               \
    "   and redis.call('TTL', dk) < 0 then "                                  \
    " redis.call('EXPIRE', dk, " VIDEO_VIEWS_DAY_TTL ") "                     \
    "end "                                                                    \
    "if redis.call('HINCRBY', mk, id, 1) == 1 "                               \
    "   and redis.call('TTL', mk) < 0 then "                                  \
    " redis.call('EXPIRE', mk, " VIDEO_VIEWS_MONTH_TTL ") "                   \
    "end "                                                                    \
    "return 1"


/*
 * A video's figures.  ARGV: id, day, month, known, then the caller
 * (SCOPE).  Returns {loaded, today, month, total, unique viewers today},
 * or as EXISTS and SCOPE; loaded 0 means the counters lack what
 * PostgreSQL holds.
 */
#define VIDEO_VIEWS_STATS_LUA                                                 \
    VIDEO_VIEWS_LUA_EXISTS                                                    \
    VIDEO_VIEWS_LUA_SCOPE                                                     \
    "return { redis.call('EXISTS', 'views:loaded'), "                         \
    "  tonumber(redis.call('HGET', dk, id) or 0), "                           \
    "  tonumber(redis.call('HGET', mk, id) or 0), "                           \
    "  tonumber(redis.call('HGET', 'views:t', id) or 0), "                    \
    "  redis.call('PFCOUNT', uk) }"


/*
 * The figures of several videos.  ARGV: day, month, id...  Returns
 * {loaded, today1, month1, total1, today2, ...}.
 */
#define VIDEO_VIEWS_MANY_LUA                                                  \
    "local r = { redis.call('EXISTS', 'views:loaded') } "                     \
    "if #ARGV < 3 then return r end "                                         \
    "local d = redis.call('HMGET', 'views:d:' .. ARGV[1], unpack(ARGV, 3)) "  \
    "local m = redis.call('HMGET', 'views:m:' .. ARGV[2], unpack(ARGV, 3)) "  \
    "local t = redis.call('HMGET', 'views:t', unpack(ARGV, 3)) "              \
    "for i = 1, #d do "                                                       \
    " r[#r + 1] = tonumber(d[i] or 0) "                                       \
    " r[#r + 1] = tonumber(m[i] or 0) "                                       \
    " r[#r + 1] = tonumber(t[i] or 0) "                                       \
    "end "                                                                    \
    "return r"


/*
 * GET of a cached video with its figures.  KEYS[1] video:<id>; ARGV: id,
 * day, month.  Returns {entry or false, loaded, today, month, total}.
 */
#define VIDEO_VIEWS_GET_LUA                                                   \
    "local id = ARGV[1] "                                                     \
    "return { redis.call('GET', KEYS[1]), "                                   \
    "  redis.call('EXISTS', 'views:loaded'), "                                \
    "  tonumber(redis.call('HGET', 'views:d:' .. ARGV[2], id) or 0), "        \
    "  tonumber(redis.call('HGET', 'views:m:' .. ARGV[3], id) or 0), "        \
    "  tonumber(redis.call('HGET', 'views:t', id) or 0) }"


/*
 * The figures of the videos of a cached page of the video list.  Pages
 * are stored as "<lists version>:<n>:<the n ids><JSON>" under a key of
 * their own; the page itself is read with a plain GET sent right after
 * this script, so it does not pass through Lua.  KEYS[1] the lists'
 * version key, KEYS[2] the page's key; ARGV: day, month.  Returns
 * {version, page usable (0 or 1), loaded, todays, months, totals}, the
 * last three arrays of n counters as Redis holds them (nil for none).
 * The script reads only the page's head: a long string read into Lua
 * costs more than the rest of the script.
 */
#define VIDEO_VIEWS_LIST_LUA                                                  \
    "local v = redis.call('GET', KEYS[1]) or '0' "                            \
    "local h = redis.call('GETRANGE', KEYS[2], 0, 47) "                       \
    "local c = string.find(h, ':', 1, true) "                                 \
    "if not c or string.sub(h, 1, c - 1) ~= v then return { v, 0 } end "      \
    "local c2 = string.find(h, ':', c + 1, true) "                            \
    "local n = c2 and tonumber(string.sub(h, c + 1, c2 - 1)) "                \
    "if not n then return { v, 0 } end "                                      \
    "if n == 0 then return { v, 1, 0 } end "                                  \
    "local s = redis.call('GETRANGE', KEYS[2], c2, c2 + 21 * n - 1) "         \
    "if #s < 21 * n then return { v, 0 } end "                                \
    "local ids = {} "                                                         \
    "for i = 0, n - 1 do "                                                    \
    " ids[i + 1] = string.sub(s, 1 + 21 * i, 21 + 21 * i) "                   \
    "end "                                                                    \
    "return { v, 1, redis.call('EXISTS', 'views:loaded'), "                   \
    "  redis.call('HMGET', 'views:d:' .. ARGV[1], unpack(ids)), "             \
    "  redis.call('HMGET', 'views:m:' .. ARGV[2], unpack(ids)), "             \
    "  redis.call('HMGET', 'views:t', unpack(ids)) }"


/*
 * A reset.  ARGV: "d" or "m", the day or month, the TTL of its count.
 * Returns {reset count, number of ids, set complete}.
 */
#define VIDEO_VIEWS_RESET_LUA                                                 \
    "redis.call('UNLINK', 'views:' .. ARGV[1] .. ':' .. ARGV[2]) "            \
    "local k = 'views:g' .. ARGV[1] .. ':' .. ARGV[2] "                       \
    "local g = redis.call('INCR', k) "                                        \
    "redis.call('EXPIRE', k, ARGV[3]) "                                       \
    "return { g, redis.call('SCARD', 'video:ids'), "                          \
    "  redis.call('EXISTS', 'video:ids:complete') }"


/*
 * Rollup, step 1: takes the pending views as a batch.  ARGV: the batch
 * key.  Returns 1 when taken, 0 when nothing is pending, -1 when the
 * counters are not loaded yet (the worker seeds them first).
 */
#define VIDEO_VIEWS_TAKE_LUA                                                  \
    "if redis.call('EXISTS', 'views:loaded') == 0 then return -1 end "        \
    "if redis.call('EXISTS', 'views:pending') == 0 then return 0 end "        \
    "redis.call('RENAME', 'views:pending', ARGV[1]) "                         \
    "redis.call('SADD', 'views:batches', ARGV[1]) "                           \
    "return 1"


/* Rollup, last step: the batch is in PostgreSQL.  ARGV: the batch key. */
#define VIDEO_VIEWS_DONE_LUA                                                  \
    "redis.call('DEL', ARGV[1]) "                                             \
    "redis.call('SREM', 'views:batches', ARGV[1]) "                           \
    "return 1"


/*
 * Seeding the counters from PostgreSQL, once per id, added to what was
 * counted meanwhile.  ARGV: day, month, then id, today, month, total for
 * each video.
 */
#define VIDEO_VIEWS_SEED_LUA                                                  \
    "local dk, mk = 'views:d:' .. ARGV[1], 'views:m:' .. ARGV[2] "            \
    "local n = 0 "                                                            \
    "for i = 3, #ARGV, 4 do "                                                 \
    " local id = ARGV[i] "                                                    \
    " if redis.call('HSETNX', 'views:seeded', id, 1) == 1 then "              \
    "  n = n + 1 "                                                            \
    "  if ARGV[i + 1] ~= '0' then "                                           \
    "   redis.call('HINCRBY', dk, id, ARGV[i + 1]) "                          \
    "   redis.call('EXPIRE', dk, " VIDEO_VIEWS_DAY_TTL ") "                   \
    "  end "                                                                  \
    "  if ARGV[i + 2] ~= '0' then "                                           \
    "   redis.call('HINCRBY', mk, id, ARGV[i + 2]) "                          \
    "   redis.call('EXPIRE', mk, " VIDEO_VIEWS_MONTH_TTL ") "                 \
    "  end "                                                                  \
    "  redis.call('HINCRBY', 'views:t', id, ARGV[i + 3]) "                    \
    " end "                                                                   \
    "end "                                                                    \
    "return n"


/*
 * Where a video object's figures are in JSON text built by video_json()
 * (conf/sql): each "viewsToday" : N, "viewsMonth" : N, "viewsTotal" : N
 * run, and the id of the object it is in.
 */
typedef struct {
    const char  *id;            /* VIDEO_ID_LEN bytes, in the text */
    size_t       start;         /* of the first number */
    size_t       end;           /* after the last number */
    int64_t      today;         /* the figures to write */
    int64_t      month;
    int64_t      total;
} video_views_slot_t;


/* the room one slot's figures can take beyond the text's */
#define VIDEO_VIEWS_SLOT_GROWTH  (3 * 20)


/*
 * Finds up to max slots in json; their number.  Only keys count: text
 * inside a string has its quotes escaped, so it cannot match.
 */
size_t video_views_scan(const char *json, size_t len,
    video_views_slot_t *slots, size_t max);

/*
 * json with each slot's figures written in, into out (at least len +
 * n * VIDEO_VIEWS_SLOT_GROWTH bytes); the length written.
 */
size_t video_views_write(const char *json, size_t len,
    const video_views_slot_t *slots, size_t n, char *out);


#endif /* _VIDEO_VIEWS_H_INCLUDED_ */
