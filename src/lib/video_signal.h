/*
 * WebRTC signaling between the peers of a live stream: what a message
 * is, who may send it, and how Redis holds it until its peer takes it.
 *
 * Keys and channels ("<stream>" a video id, "<peer>" a peer id):
 *
 *   signal:<stream>:<peer>   list of the messages for that peer, oldest
 *                            first, each "<post time in ms>:<JSON>"; it
 *                            expires VIDEO_SIGNAL_TTL_MS after the last
 *                            post, and older entries are dropped on take
 *   signal:<stream>:<peer>   (the channel of the same name) a post's
 *                            notice to whoever waits for that peer
 *
 * The post time is Redis's clock, so every host agrees on expiry.
 */

#ifndef _VIDEO_SIGNAL_H_INCLUDED_
#define _VIDEO_SIGNAL_H_INCLUDED_


#include <stddef.h>
#include <jansson.h>


#define VIDEO_SIGNAL_PEER_MAX    64
#define VIDEO_SIGNAL_BODY_MAX    65536      /* bytes of a POST body */
#define VIDEO_SIGNAL_TTL_MS      60000      /* of an undelivered message */
#define VIDEO_SIGNAL_TTL         "60000"
#define VIDEO_SIGNAL_QUEUE_MAX   "256"      /* messages kept per peer */

#define VIDEO_SIGNAL_PREFIX      "signal:"
#define VIDEO_SIGNAL_PATTERN     "signal:*"

/* "signal:" <stream> ":" <peer>, the most there is room for */
#define VIDEO_SIGNAL_KEY_MAX                                                  \
    (sizeof(VIDEO_SIGNAL_PREFIX) - 1 + 21 + 1 + VIDEO_SIGNAL_PEER_MAX)


extern const char *const  video_signal_types[];   /* NULL-terminated */


typedef struct {
    int           type;          /* index in video_signal_types */
    const char   *from;          /* NUL-terminated, in the body */
    const char   *to;
    json_t       *data;          /* any JSON value, null included */
} video_signal_t;


/* 1 when s is 1..64 characters of [A-Za-z0-9_-], else 0 */
int video_signal_peer_valid(const char *s, size_t len);

/*
 * Checks a POST /api/live/:id/signal body (a JSON object): type one of
 * video_signal_types, from and to valid and different peer ids, data
 * present.  Returns 0, or -1 with *details set to a new array of
 * {"path", "message"} (the caller owns it; NULL when out of memory).
 */
int video_signal_parse(json_t *body, video_signal_t *out, json_t **details);

/*
 * The message as stored and delivered: {"id", "type", "from", "to",
 * "data", "createdAt"}; a new reference, or NULL when out of memory.
 */
json_t *video_signal_message(const video_signal_t *s, const char *id,
    const char *created_at);

/*
 * The "timeout" argument of a poll: whole seconds, at most max (a larger
 * value is max).  Returns 0 with *seconds set, or -1 when s is not a
 * non-negative integer.
 */
int video_signal_timeout(const char *s, size_t len, long max, long *seconds);

/*
 * Writes "signal:<stream>:<peer>" into buf (VIDEO_SIGNAL_KEY_MAX bytes at
 * least); the length written.
 */
size_t video_signal_key(char *buf, const char *stream, size_t stream_len,
    const char *peer, size_t peer_len);


/*
 * A post.  KEYS[1] the peer's list; ARGV: the message (JSON), the
 * channel.  Keeps the newest VIDEO_SIGNAL_QUEUE_MAX messages.  Returns
 * the length of the list.
 */
#define VIDEO_SIGNAL_POST_LUA                                                 \
    "local t = redis.call('TIME') "                                           \
    "local now = t[1] * 1000 + math.floor(t[2] / 1000) "                      \
    "local n = redis.call('RPUSH', KEYS[1], "                                 \
    "  string.format('%d', now) .. ':' .. ARGV[1]) "                          \
    "if n > " VIDEO_SIGNAL_QUEUE_MAX " then "                                 \
    " redis.call('LTRIM', KEYS[1], -" VIDEO_SIGNAL_QUEUE_MAX ", -1) "         \
    " n = " VIDEO_SIGNAL_QUEUE_MAX " "                                        \
    "end "                                                                    \
    "redis.call('PEXPIRE', KEYS[1], " VIDEO_SIGNAL_TTL ") "                   \
    "redis.call('PUBLISH', ARGV[2], n) "                                      \
    "return n"


/*
 * A take: every pending message of the peer, oldest first, as JSON
 * texts, and the list is gone; messages older than VIDEO_SIGNAL_TTL_MS
 * are dropped.  KEYS[1] the peer's list.
 */
#define VIDEO_SIGNAL_TAKE_LUA                                                 \
    "local l = redis.call('LRANGE', KEYS[1], 0, -1) "                         \
    "if #l == 0 then return l end "                                           \
    "redis.call('DEL', KEYS[1]) "                                             \
    "local t = redis.call('TIME') "                                           \
    "local old = t[1] * 1000 + math.floor(t[2] / 1000) - "                    \
    VIDEO_SIGNAL_TTL " "                                                      \
    "local r = {} "                                                           \
    "for i = 1, #l do "                                                       \
    " local c = string.find(l[i], ':', 1, true) "                             \
    " if c and tonumber(string.sub(l[i], 1, c - 1)) >= old then "             \
    "  r[#r + 1] = string.sub(l[i], c + 1) "                                  \
    " end "                                                                   \
    "end "                                                                    \
    "return r"


#endif /* _VIDEO_SIGNAL_H_INCLUDED_ */
