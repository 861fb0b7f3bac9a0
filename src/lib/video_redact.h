/*
 * Request targets with their secrets taken out, for access logs: play
 * tokens in paths and signatures in presigned queries stay usable for
 * hours, so what is written to disk must not hold them.
 */

#ifndef _VIDEO_REDACT_H_INCLUDED_
#define _VIDEO_REDACT_H_INCLUDED_


#include <stddef.h>


/*
 * Copies the request target in (len bytes, as the client sent it:
 * "/play/<id>/<token>/master.m3u8?X-Amz-Signature=...") into out, with
 * every path segment that decodes to a play token, and the value of every
 * query parameter whose name decodes to X-Amz-Signature,
 * X-Amz-Security-Token, X-Amz-Credential, signature, token or secret (in
 * any case), written as "-".  out has room for len bytes; returns the
 * length written, never more than len.
 */
size_t video_redact_target(const char *in, size_t len, char *out);


#endif /* _VIDEO_REDACT_H_INCLUDED_ */
