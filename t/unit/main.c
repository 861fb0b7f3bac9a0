/*
 * Runs every Check suite; the exit code says whether all passed.
 */

#include <stdlib.h>

#include "unit.h"


int
main(void)
{
    int       failed;
    SRunner  *sr;

    sr = srunner_create(unit_route_suite());
    srunner_add_suite(sr, unit_envelope_suite());
    srunner_add_suite(sr, unit_time_suite());
    srunner_add_suite(sr, unit_id_suite());
    srunner_add_suite(sr, unit_cursor_suite());
    srunner_add_suite(sr, unit_validate_suite());
    srunner_add_suite(sr, unit_sigv4_suite());
    srunner_add_suite(sr, unit_sigv4_auth_suite());
    srunner_add_suite(sr, unit_play_suite());
    srunner_add_suite(sr, unit_hmac_suite());
    srunner_add_suite(sr, unit_idem_suite());
    srunner_add_suite(sr, unit_worker_lib_suite());
    srunner_add_suite(sr, unit_views_suite());
    srunner_add_suite(sr, unit_signal_suite());
    srunner_add_suite(sr, unit_form_suite());
    srunner_add_suite(sr, unit_redact_suite());
    srunner_add_suite(sr, unit_container_suite());
    srunner_add_suite(sr, unit_apikey_suite());
    srunner_add_suite(sr, unit_json_suite());
    srunner_add_suite(sr, unit_access_suite());
    srunner_add_suite(sr, unit_s3xml_suite());
    srunner_add_suite(sr, unit_urlguard_suite());
    srunner_add_suite(sr, unit_upload_url_suite());
    srunner_add_suite(sr, unit_webhook_suite());
    srunner_add_suite(sr, unit_webhook_body_suite());
    srunner_add_suite(sr, unit_base64_suite());
    srunner_add_suite(sr, unit_chunk_suite());

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);

    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
