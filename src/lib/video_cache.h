/*
 * The Redis video cache as the module and the workers share it: entries
 * "video:<id>" = "<version>:<json>", the version being updated_at in
 * microseconds, written by one Lua script that never replaces an entry
 * with an older one; list pages live under a version that every change
 * to the library increments.
 */

#ifndef _VIDEO_CACHE_H_INCLUDED_
#define _VIDEO_CACHE_H_INCLUDED_


/* a video's entry is VIDEO_CACHE_KEY_PREFIX "<id>" */
#define VIDEO_CACHE_KEY_PREFIX    "video:"
#define VIDEO_CACHE_LIST_VERSION  "video:list:version"

/*
 * How long an entry lives (ms) unless configured: video_api_redis
 * cache_ttl= in nginx, cache_ttl in conf/worker.conf; the two should agree
 */
#define VIDEO_CACHE_TTL_MS        60000

/*
 * KEYS[1] the entry, ARGV[1] version, ARGV[2] JSON, ARGV[3] TTL in ms:
 * stores the entry unless the one there is as new or newer
 */
#define VIDEO_CACHE_PUT_LUA                                                   \
    "local cur = redis.call('GET', KEYS[1]) "                                 \
    "if cur then "                                                            \
    " local v = string.match(cur, '^(%d+):') "                                \
    " if v and (#v > #ARGV[1] or (#v == #ARGV[1] and v >= ARGV[1])) then "    \
    "  return 0 "                                                             \
    " end "                                                                   \
    "end "                                                                    \
    "redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[2], 'PX', ARGV[3]) "   \
    "return 1"


#endif /* _VIDEO_CACHE_H_INCLUDED_ */
