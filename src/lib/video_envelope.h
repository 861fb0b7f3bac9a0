/*
 * The JSON envelope every API answer travels in (API.md, "Envelope"), built
 * with jansson and free of nginx types so workers and tests share it.
 */

#ifndef _VIDEO_ENVELOPE_H_INCLUDED_
#define _VIDEO_ENVELOPE_H_INCLUDED_


#include <stddef.h>
#include <jansson.h>


/*
 * The error code API.md pairs with an HTTP status ("NOT_FOUND" for 404);
 * unknown 4xx map to "BAD_REQUEST", unknown 5xx to "INTERNAL".
 */
const char *video_envelope_code(int status);

/* {"success": true, "data": data}; takes the reference to data. */
json_t *video_envelope_ok(json_t *data);

/*
 * {"success": false, "error": {"message", "status", "code"[, "details"]}};
 * code NULL means video_envelope_code(status); takes the reference to
 * details (may be NULL).  message need not be valid UTF-8.
 */
json_t *video_envelope_error(int status, const char *code,
    const char *message, size_t len, json_t *details);

/*
 * A JSON string from bytes that may not be UTF-8 (a path, a header): bytes
 * that do not form valid UTF-8 become '?' instead of failing.
 */
json_t *video_json_string_lossy(const char *s, size_t len);


#endif /* _VIDEO_ENVELOPE_H_INCLUDED_ */
