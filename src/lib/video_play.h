/*
 * Playback tokens: what lets a player fetch a private video's playlists
 * and segments from /play/<videoId>/<token>/... for a while.  Like nginx's
 * secure_link, but HMAC-SHA256 over the video id, the expiry and the
 * video's token generation, so one token opens every file under that
 * video's prefix and nothing else, and only until the video's generation
 * moves on (it became PRIVATE again, its account was disabled).  A token
 * names the key that signed it ("<expires>-<kid><signature>"), so the
 * secret can rotate while tokens signed with the previous one still work.
 */

#ifndef _VIDEO_PLAY_H_INCLUDED_
#define _VIDEO_PLAY_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define VIDEO_PLAY_SIG_LEN     43   /* base64url of 32 bytes, no padding */
#define VIDEO_PLAY_KID_LEN     2    /* base64url: which key signed */
#define VIDEO_PLAY_EXP_MAX     12   /* digits of the expiry */
#define VIDEO_PLAY_TOKEN_MAX   (VIDEO_PLAY_EXP_MAX + 1 + VIDEO_PLAY_KID_LEN  \
                                + VIDEO_PLAY_SIG_LEN)
#define VIDEO_PLAY_SECRET_LEN  32
#define VIDEO_PLAY_GEN_MAX     2147483647


/* a signing key and its id (video_play_key_init) */
typedef struct {
    const unsigned char         *secret;
    size_t                       len;
    char                         kid[VIDEO_PLAY_KID_LEN];
} video_play_key_t;


#define VIDEO_PLAY_ERROR    -1      /* libcrypto failed */
#define VIDEO_PLAY_OK        0
#define VIDEO_PLAY_INVALID   1      /* not a token, or not this video's */
#define VIDEO_PLAY_EXPIRED   2


/*
 * The token key when none is configured, VIDEO_PLAY_SECRET_LEN bytes into
 * out: HMAC-SHA256 of a fixed label under the storage secret, so it is
 * stable and secret as long as that is; with storage_secret NULL, random.
 * Returns 0 or -1.
 */
int video_play_derive_secret(const unsigned char *storage_secret,
    size_t len, unsigned char *out);

/* a key for secret (which must outlive it), with its id; 0, or -1 */
int video_play_key_init(video_play_key_t *key, const unsigned char *secret,
    size_t len);

/*
 * "<expires>-<kid><base64url(HMAC-SHA256(secret, id "/" expires "/"
 * generation))>" into out (VIDEO_PLAY_TOKEN_MAX bytes, no NUL); its
 * length, or -1.
 */
int video_play_token(const video_play_key_t *key, const char *id,
    size_t id_len, int64_t expires, int64_t gen, char *out);

/* 1 when s has the shape of a token (a path segment that is one), else 0 */
int video_play_is_token(const char *s, size_t len);

/*
 * Checks a token for the video, whose token generation is gen now, at
 * time now, with the key among keys that it names, comparing in constant
 * time: VIDEO_PLAY_OK, _INVALID, _EXPIRED or _ERROR.  ttl is the lifetime
 * tokens are issued for (video_play_expiry): a token that would stay
 * valid longer than any issued now could is invalid, so even one signed
 * with a leaked key opens a video for no longer than ttl and its rounding.
 */
int video_play_verify(const video_play_key_t *keys, size_t nkeys,
    const char *id, size_t id_len, const char *token, size_t token_len,
    int64_t gen, int64_t now, int64_t ttl);

/*
 * The expiry to put in tokens issued at now for a lifetime of ttl seconds:
 * at least ttl away, and the same for every now within a step of ttl / 8,
 * so repeated answers are byte-identical (ETags and caches keep working).
 */
int64_t video_play_expiry(int64_t now, int64_t ttl);

/*
 * The visibility of a video from its JSON text: 1 for PUBLIC and UNLISTED
 * (no token needed), 0 for PRIVATE (or anything else), -1 when the text
 * has no "visibility" value.
 */
int video_play_visibility(const char *json, size_t len);

/*
 * Inserts "<token>/" after the id in the play URLs of video JSON text (as
 * video_json() in conf/sql builds it): string values of the keys
 * "playbackUrl" and "thumbnailUrl" that start with base followed by a
 * valid id and "/".  Only PRIVATE videos' URLs are signed: the last
 * "visibility" value seen before a URL decides, and the video object has
 * its visibility before its URLs and variants; the last
 * "tokenGeneration" value before it is the generation signed (0 when
 * there is none).  Keys are matched as JSON
 * tokens, never inside string values, so text in a title cannot make a
 * URL for another video signed.
 *
 * With out NULL, returns the length the result needs; else writes it
 * (that many bytes) and returns its length.  -1 when a token cannot be
 * made.  *signed_out (may be NULL) tells whether any URL was signed.
 */
long video_play_sign_json(const char *in, size_t len, const char *base,
    size_t base_len, const video_play_key_t *key, int64_t expires, char *out,
    int *signed_out);


#endif /* _VIDEO_PLAY_H_INCLUDED_ */
