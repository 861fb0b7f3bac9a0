/*
 * View counters in Redis, as the module (counting, reading, resets) and
 * the analytics worker (rollups into PostgreSQL) share them.
 *
 * Keys ("<day>" is YYYY-MM-DD and "<month>" YYYY-MM, both UTC):
 *
 *   video:ids                set of the ids of every video
 *   video:ids:complete       present when video:ids holds every video
 *                            (the worker fills the set, then sets this)
 *   views:gd:<day>           the day's reset generation (absent: 0)
 *   views:gm:<month>         the month's reset generation (absent: 0)
 *   views:d:<day>:<gen>      hash id -> views of that day and generation
 *   views:m:<month>:<gen>    hash id -> views of that month and generation
 *   views:t                  hash id -> views of all time
 *   views:u:<day>:<gen>:<id> HyperLogLog of the day's viewers; generation
 *                            0 always takes every viewer of the day
 *   views:pending            hash "<day>:<id>" -> views not yet rolled up
 *   views:batch:<hex>        views:pending renamed by a rollup
 *   views:batches            set of the batch keys a rollup has taken
 *   views:loaded             present when the counters include what
 *                            PostgreSQL holds (the worker seeds them)
 *   views:seeded             hash of the ids seeded so far
 *
 * A reset increments the generation of the current day or month, so it
 * costs one write whatever the number of videos; a new day or month
 * starts at zero because its keys are new.
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
    "local g = redis.call('MGET', 'views:gd:' .. day, 'views:gm:' .. month) " \
    "local dg, mg = g[1] or '0', g[2] or '0' "                                \
    "local dk = 'views:d:' .. day .. ':' .. dg "                              \
    "local mk = 'views:m:' .. month .. ':' .. mg "                            \
    "local uk = 'views:u:' .. day .. ':' .. dg .. ':' .. id "


/*
 * Counts a view.  ARGV: id, day, month, known, viewer (a keyed hash of
 * the client, never the address itself).  Returns 1, or as EXISTS.
 */
#define VIDEO_VIEWS_COUNT_LUA                                                 \
    VIDEO_VIEWS_LUA_EXISTS                                                    \
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
    "if dg ~= '0' then "                                                      \
    " local u0 = 'views:u:' .. day .. ':0:' .. id "                           \
    " redis.call('PFADD', u0, ARGV[5]) "                                      \
    " redis.call('EXPIRE', u0, " VIDEO_VIEWS_DAY_TTL ") "                     \
    "end "                                                                    \
    "return 1"


/*
 * A video's figures.  ARGV: id, day, month, known.  Returns {loaded,
 * today, month, total, unique viewers today}, or as EXISTS; loaded 0
 * means the counters lack what PostgreSQL holds.
 */
#define VIDEO_VIEWS_STATS_LUA                                                 \
    VIDEO_VIEWS_LUA_EXISTS                                                    \
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
    "local day, month = ARGV[1], ARGV[2] "                                    \
    "local g = redis.call('MGET', 'views:gd:' .. day, 'views:gm:' .. month) " \
    "local dk = 'views:d:' .. day .. ':' .. (g[1] or '0') "                   \
    "local mk = 'views:m:' .. month .. ':' .. (g[2] or '0') "                 \
    "local r = { redis.call('EXISTS', 'views:loaded') } "                     \
    "for i = 3, #ARGV do "                                                    \
    " r[#r + 1] = tonumber(redis.call('HGET', dk, ARGV[i]) or 0) "            \
    " r[#r + 1] = tonumber(redis.call('HGET', mk, ARGV[i]) or 0) "            \
    " r[#r + 1] = tonumber(redis.call('HGET', 'views:t', ARGV[i]) or 0) "     \
    "end "                                                                    \
    "return r"


/*
 * GET of a cached video with its figures.  KEYS[1] video:<id>; ARGV: id,
 * day, month.  Returns {entry or false, loaded, today, month, total}.
 */
#define VIDEO_VIEWS_GET_LUA                                                   \
    "local id, day, month = ARGV[1], ARGV[2], ARGV[3] "                       \
    "local g = redis.call('MGET', 'views:gd:' .. day, 'views:gm:' .. month) " \
    "local dk = 'views:d:' .. day .. ':' .. (g[1] or '0') "                   \
    "local mk = 'views:m:' .. month .. ':' .. (g[2] or '0') "                 \
    "return { redis.call('GET', KEYS[1]), "                                   \
    "  redis.call('EXISTS', 'views:loaded'), "                                \
    "  tonumber(redis.call('HGET', dk, id) or 0), "                           \
    "  tonumber(redis.call('HGET', mk, id) or 0), "                           \
    "  tonumber(redis.call('HGET', 'views:t', id) or 0) }"


/*
 * A reset.  ARGV: "d" or "m", the day or month, the TTL of its key.
 * Returns {new generation, number of ids, set complete}.
 */
#define VIDEO_VIEWS_RESET_LUA                                                 \
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
    "local day, month = ARGV[1], ARGV[2] "                                    \
    "local g = redis.call('MGET', 'views:gd:' .. day, 'views:gm:' .. month) " \
    "local dk = 'views:d:' .. day .. ':' .. (g[1] or '0') "                   \
    "local mk = 'views:m:' .. month .. ':' .. (g[2] or '0') "                 \
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
