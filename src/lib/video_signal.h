/*
 * WebRTC signaling between the peers of a live stream: who a peer is,
 * what a message is, and how Redis holds both, within bounds.
 *
 * A peer joins a stream and gets a random id and a secret token from the
 * server; Redis keeps the token's SHA-256 only.  Keys and channels of a
 * stream ("<stream>" a video id, "<peer>" a peer id):
 *
 *   signal:<stream>:peers    sorted set: the joined peers, each scored
 *                            by the time (ms) it expires unless it polls
 *   signal:<stream>:tokens   hash: peer -> hex SHA-256 of its token
 *   signal:<stream>:bytes    hash: peer -> bytes waiting in its list
 *   signal:<stream>:<peer>   list of the messages for that peer, oldest
 *                            first, each "<post time in ms>:<JSON>"
 *   signal:<stream>:<peer>   (the channel of the same name) a post's
 *                            notice to whoever waits for that peer
 *
 * Peer ids have 21 characters, so no peer list is named like the
 * others.  Every key expires when the last peer would (a list with its
 * peer), and every script drops the peers that expired, with their
 * lists; times are Redis's clock, so every host agrees on expiry.
 */

#ifndef _VIDEO_SIGNAL_H_INCLUDED_
#define _VIDEO_SIGNAL_H_INCLUDED_


#include <stddef.h>
#include <jansson.h>


#define VIDEO_SIGNAL_PEER_LEN        21     /* characters of a peer id */
#define VIDEO_SIGNAL_TOKEN_LEN       32     /* URL-safe, 192 bits */
#define VIDEO_SIGNAL_TOKEN_HASH_LEN  64     /* hex SHA-256 */
#define VIDEO_SIGNAL_TOKEN_HEADER    "X-Peer-Token"

#define VIDEO_SIGNAL_BODY_MAX    65536      /* bytes of a POST body */
#define VIDEO_SIGNAL_TTL_MS      60000      /* of an undelivered message */
#define VIDEO_SIGNAL_TTL         "60000"

/* the default limits (video_api_signal_limits) */
#define VIDEO_SIGNAL_PEERS        64
#define VIDEO_SIGNAL_BYTES        (1024 * 1024)
#define VIDEO_SIGNAL_QUEUE        64
#define VIDEO_SIGNAL_QUEUE_BYTES  (256 * 1024)
#define VIDEO_SIGNAL_IDLE_MS      120000

#define VIDEO_SIGNAL_PREFIX      "signal:"
#define VIDEO_SIGNAL_PATTERN     "signal:*"

/* "signal:" <stream> ":" <peer or "peers", "tokens", "bytes"> */
#define VIDEO_SIGNAL_KEY_MAX                                                  \
    (sizeof(VIDEO_SIGNAL_PREFIX) - 1 + 21 + 1 + VIDEO_SIGNAL_PEER_LEN)


/* what the scripts answer instead of a result (integers) */
#define VIDEO_SIGNAL_DENIED            (-1)  /* no such peer, or its token */
#define VIDEO_SIGNAL_NO_PEER           (-2)  /* "to" is not a joined peer */
#define VIDEO_SIGNAL_FULL_PEERS        (-3)
#define VIDEO_SIGNAL_FULL_QUEUE        (-4)  /* messages waiting for "to" */
#define VIDEO_SIGNAL_FULL_QUEUE_BYTES  (-5)  /* their bytes */
#define VIDEO_SIGNAL_FULL_BYTES        (-6)  /* the stream's waiting bytes */
#define VIDEO_SIGNAL_PEER_TAKEN        (-7)  /* a join drew an id in use */


extern const char *const  video_signal_types[];   /* NULL-terminated */


typedef struct {
    int           type;          /* index in video_signal_types */
    const char   *from;          /* NUL-terminated, in the body */
    const char   *to;
    json_t       *data;          /* any JSON value, null included */
} video_signal_t;


typedef struct {
    unsigned long  peers;        /* joined peers of a stream */
    unsigned long  bytes;        /* bytes waiting in a stream's lists */
    unsigned long  queue;        /* messages waiting for one peer */
    unsigned long  queue_bytes;  /* their bytes */
    unsigned long  idle_ms;      /* a peer that does not poll expires */
} video_signal_limits_t;


/* 1 when s has the shape of a peer id the server issues, else 0 */
int video_signal_peer_valid(const char *s, size_t len);

/*
 * A new peer id (VIDEO_SIGNAL_PEER_LEN characters, no NUL) and its token
 * (VIDEO_SIGNAL_TOKEN_LEN characters, no NUL), both from the kernel's
 * CSPRNG.  Returns 0, or -1.
 */
int video_signal_peer_generate(char *peer, char *token);

/* 1 when s has the shape of a token, else 0 */
int video_signal_token_valid(const char *s, size_t len);

/*
 * The form a token is kept in: its hex SHA-256 into out
 * (VIDEO_SIGNAL_TOKEN_HASH_LEN characters, no NUL).  Returns 0, or -1.
 */
int video_signal_token_hash(const char *token, size_t len, char *out);

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
 * Writes "signal:<stream>:<name>" into buf (VIDEO_SIGNAL_KEY_MAX bytes at
 * least; name a peer id or "peers", "tokens", "bytes"); the length
 * written.
 */
size_t video_signal_key(char *buf, const char *stream, size_t stream_len,
    const char *name, size_t name_len);

void video_signal_limits_default(video_signal_limits_t *l);

/*
 * The parameters of video_api_signal_limits, n "name=value" strings:
 * peers=<count>, bytes=<size>, queue=<count>, queue_bytes=<size> and
 * idle=<time> (sizes as nginx's: 512, 64k, 1m; times: 500ms, 90s, 2m,
 * 1h, a bare number is seconds), applied over what l holds.  Returns 0,
 * or -1 with a message in err (err_len bytes, NUL-terminated) and l
 * unchanged.
 */
int video_signal_limits_parse(video_signal_limits_t *l, int n,
    const char **params, const size_t *lens, char *err, size_t err_len);


#define VIDEO_SIGNAL_STR(x)   VIDEO_SIGNAL_STR_(x)
#define VIDEO_SIGNAL_STR_(x)  #x


/*
 * What every script begins with.  KEYS[1] the peers, KEYS[2] the tokens,
 * KEYS[3] the bytes of the stream; ARGV[1] the prefix of its lists
 * ("signal:<stream>:").  now is Redis's clock in ms.  same() compares two
 * token hashes in a time that does not depend on where they differ;
 * joined() says whether a peer is there, unexpired, with that token
 * hash; sweep() drops expired peers and their lists; keep() makes the
 * stream's keys expire with its last peer.
 */
#define VIDEO_SIGNAL_LUA_COMMON                                               \
    "local t = redis.call('TIME') "                                           \
    "local now = t[1] * 1000 + math.floor(t[2] / 1000) "                      \
    "local function same(a, b) "                                              \
    " local d = 0 "                                                           \
    " if #a ~= #b then d = 1; a = b end "                                     \
    " for i = 1, #b do "                                                      \
    "  d = bit.bor(d, bit.bxor(string.byte(a, i), string.byte(b, i))) "       \
    " end "                                                                   \
    " return d == 0 "                                                         \
    "end "                                                                    \
    "local function joined(peer, hash) "                                      \
    " local s = redis.call('ZSCORE', KEYS[1], peer) "                         \
    " local h = redis.call('HGET', KEYS[2], peer) "                           \
    " local ok = same(h or '', hash) "                                        \
    " return ok and s ~= false and h ~= false and tonumber(s) > now "         \
    "end "                                                                    \
    "local function sweep() "                                                 \
    " local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now) "        \
    " for i = 1, #gone do "                                                   \
    "  redis.call('DEL', ARGV[1] .. gone[i]) "                                \
    "  redis.call('HDEL', KEYS[2], gone[i]) "                                 \
    "  redis.call('HDEL', KEYS[3], gone[i]) "                                 \
    "  redis.call('ZREM', KEYS[1], gone[i]) "                                 \
    " end "                                                                   \
    "end "                                                                    \
    "local function keep() "                                                  \
    " local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES') "      \
    " if #last == 0 then return end "                                         \
    " for i = 1, 3 do redis.call('PEXPIREAT', KEYS[i], last[2]) end "         \
    "end "


/*
 * A join.  ARGV[2] the new peer, ARGV[3] its token hash, ARGV[4] how long
 * it lives without a poll (ms), ARGV[5] the most peers a stream has.
 * Returns the number of peers, VIDEO_SIGNAL_FULL_PEERS or
 * VIDEO_SIGNAL_PEER_TAKEN.
 */
#define VIDEO_SIGNAL_JOIN_LUA                                                 \
    VIDEO_SIGNAL_LUA_COMMON                                                   \
    "sweep() "                                                                \
    "if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[5]) then "              \
    " return " VIDEO_SIGNAL_STR(VIDEO_SIGNAL_FULL_PEERS) " "                  \
    "end "                                                                    \
    "if redis.call('ZADD', KEYS[1], 'NX', now + tonumber(ARGV[4]), "          \
    "              ARGV[2]) == 0 then "                                       \
    " return " VIDEO_SIGNAL_STR(VIDEO_SIGNAL_PEER_TAKEN) " "                  \
    "end "                                                                    \
    "redis.call('HSET', KEYS[2], ARGV[2], ARGV[3]) "                          \
    "keep() "                                                                 \
    "return redis.call('ZCARD', KEYS[1])"


/*
 * A post.  KEYS[4] the list of the peer it is for (and its channel);
 * ARGV[2] the sender, ARGV[3] its token hash, ARGV[4] the peer it is
 * for, ARGV[5] the message (JSON), ARGV[6] the most messages and ARGV[7]
 * the most bytes waiting for one peer, ARGV[8] the most bytes waiting in
 * the stream.  Messages past their time are dropped from the list first;
 * a refused post stores nothing.  Returns the length of the list, or one
 * of VIDEO_SIGNAL_DENIED, _NO_PEER, _FULL_QUEUE, _FULL_QUEUE_BYTES,
 * _FULL_BYTES.
 */
#define VIDEO_SIGNAL_POST_LUA                                                 \
    VIDEO_SIGNAL_LUA_COMMON                                                   \
    "if not joined(ARGV[2], ARGV[3]) then "                                   \
    " return " VIDEO_SIGNAL_STR(VIDEO_SIGNAL_DENIED) " "                      \
    "end "                                                                    \
    "sweep() "                                                                \
    "local dl = redis.call('ZSCORE', KEYS[1], ARGV[4]) "                      \
    "if not dl then "                                                         \
    " return " VIDEO_SIGNAL_STR(VIDEO_SIGNAL_NO_PEER) " "                     \
    "end "                                                                    \
    "local gone = 0 "                                                         \
    "while true do "                                                          \
    " local m = redis.call('LINDEX', KEYS[4], 0) "                            \
    " if not m then break end "                                               \
    " local c = string.find(m, ':', 1, true) "                                \
    " if c and tonumber(string.sub(m, 1, c - 1)) >= now - "                   \
    VIDEO_SIGNAL_TTL " then break end "                                       \
    " redis.call('LPOP', KEYS[4]) "                                           \
    " gone = gone + #m "                                                      \
    "end "                                                                    \
    "if gone > 0 then redis.call('HINCRBY', KEYS[3], ARGV[4], -gone) end "    \
    "local m = string.format('%d', now) .. ':' .. ARGV[5] "                   \
    "if redis.call('LLEN', KEYS[4]) >= tonumber(ARGV[6]) then "               \
    " return " VIDEO_SIGNAL_STR(VIDEO_SIGNAL_FULL_QUEUE) " "                  \
    "end "                                                                    \
    "local q = tonumber(redis.call('HGET', KEYS[3], ARGV[4]) or '0') "        \
    "if q + #m > tonumber(ARGV[7]) then "                                     \
    " return " VIDEO_SIGNAL_STR(VIDEO_SIGNAL_FULL_QUEUE_BYTES) " "            \
    "end "                                                                    \
    "local all = #m "                                                         \
    "for _, v in ipairs(redis.call('HVALS', KEYS[3])) do "                    \
    " all = all + tonumber(v) "                                               \
    "end "                                                                    \
    "if all > tonumber(ARGV[8]) then "                                        \
    " return " VIDEO_SIGNAL_STR(VIDEO_SIGNAL_FULL_BYTES) " "                  \
    "end "                                                                    \
    "local n = redis.call('RPUSH', KEYS[4], m) "                              \
    "redis.call('HINCRBY', KEYS[3], ARGV[4], #m) "                            \
    "redis.call('PEXPIREAT', KEYS[4], dl) "                                   \
    "keep() "                                                                 \
    "redis.call('PUBLISH', KEYS[4], n) "                                      \
    "return n"


/*
 * A take: every pending message of the peer, oldest first, as JSON
 * texts, and its list is gone; messages older than VIDEO_SIGNAL_TTL_MS
 * are dropped.  KEYS[4] the peer's list; ARGV[2] the peer, ARGV[3] its
 * token hash, ARGV[4] how long from now it lives (ms: the poll's wait
 * and the idle time).  Returns the list, or VIDEO_SIGNAL_DENIED.
 */
#define VIDEO_SIGNAL_TAKE_LUA                                                 \
    VIDEO_SIGNAL_LUA_COMMON                                                   \
    "if not joined(ARGV[2], ARGV[3]) then "                                   \
    " return " VIDEO_SIGNAL_STR(VIDEO_SIGNAL_DENIED) " "                      \
    "end "                                                                    \
    "sweep() "                                                                \
    "redis.call('ZADD', KEYS[1], 'XX', 'GT', now + tonumber(ARGV[4]), "       \
    "           ARGV[2]) "                                                    \
    "keep() "                                                                 \
    "local l = redis.call('LRANGE', KEYS[4], 0, -1) "                         \
    "if #l == 0 then return l end "                                           \
    "redis.call('DEL', KEYS[4]) "                                             \
    "redis.call('HDEL', KEYS[3], ARGV[2]) "                                   \
    "local old = now - " VIDEO_SIGNAL_TTL " "                                 \
    "local r = {} "                                                           \
    "for i = 1, #l do "                                                       \
    " local c = string.find(l[i], ':', 1, true) "                             \
    " if c and tonumber(string.sub(l[i], 1, c - 1)) >= old then "             \
    "  r[#r + 1] = string.sub(l[i], c + 1) "                                  \
    " end "                                                                   \
    "end "                                                                    \
    "return r"


/*
 * A leave: the peer, its token and its list are gone, and its waiting
 * polls are woken (to find it gone).  KEYS[4] the peer's list; ARGV[2]
 * the peer, ARGV[3] its token hash.  Returns 1, or VIDEO_SIGNAL_DENIED.
 */
#define VIDEO_SIGNAL_LEAVE_LUA                                                \
    VIDEO_SIGNAL_LUA_COMMON                                                   \
    "if not joined(ARGV[2], ARGV[3]) then "                                   \
    " return " VIDEO_SIGNAL_STR(VIDEO_SIGNAL_DENIED) " "                      \
    "end "                                                                    \
    "redis.call('ZREM', KEYS[1], ARGV[2]) "                                   \
    "redis.call('HDEL', KEYS[2], ARGV[2]) "                                   \
    "redis.call('HDEL', KEYS[3], ARGV[2]) "                                   \
    "redis.call('DEL', KEYS[4]) "                                             \
    "sweep() "                                                                \
    "redis.call('PUBLISH', KEYS[4], 0) "                                      \
    "return 1"


#endif /* _VIDEO_SIGNAL_H_INCLUDED_ */
