/*
 * The Check suites of t/unit, one per src/lib file.
 */

#ifndef _UNIT_H_INCLUDED_
#define _UNIT_H_INCLUDED_


#include <check.h>


Suite *unit_route_suite(void);
Suite *unit_envelope_suite(void);
Suite *unit_time_suite(void);
Suite *unit_id_suite(void);
Suite *unit_cursor_suite(void);
Suite *unit_validate_suite(void);
Suite *unit_sigv4_suite(void);
Suite *unit_sigv4_auth_suite(void);
Suite *unit_play_suite(void);
Suite *unit_hmac_suite(void);
Suite *unit_idem_suite(void);
Suite *unit_worker_lib_suite(void);
Suite *unit_views_suite(void);
Suite *unit_signal_suite(void);
Suite *unit_form_suite(void);
Suite *unit_redact_suite(void);
Suite *unit_container_suite(void);
Suite *unit_apikey_suite(void);
Suite *unit_json_suite(void);
Suite *unit_access_suite(void);
Suite *unit_s3xml_suite(void);
Suite *unit_urlguard_suite(void);
Suite *unit_upload_url_suite(void);
Suite *unit_webhook_suite(void);
Suite *unit_webhook_body_suite(void);
Suite *unit_base64_suite(void);
Suite *unit_chunk_suite(void);


#endif /* _UNIT_H_INCLUDED_ */
