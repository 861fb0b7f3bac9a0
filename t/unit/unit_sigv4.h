/*
 * What the SigV4 suites share: the headers a test request carries, read
 * by the verifiers through header_of().
 */

#ifndef _UNIT_SIGV4_H_INCLUDED_
#define _UNIT_SIGV4_H_INCLUDED_


#include <stddef.h>


#define SIGV4_T_MAX_HEADERS  12


typedef struct {
    const char  *name[SIGV4_T_MAX_HEADERS];
    const char  *value[SIGV4_T_MAX_HEADERS];
    int          n;
} headers_t;


/* a video_sigv4_header_pt over a headers_t, names in any case */
int header_of(void *data, const char *name, size_t name_len,
    const char **value, size_t *value_len);
void add_header(headers_t *hs, const char *name, const char *value);


#endif /* _UNIT_SIGV4_H_INCLUDED_ */
