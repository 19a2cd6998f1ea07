/* Tests of libvodupload that need no server: version, statuses, the signature known answer,
 * NULL arguments for every function, argument checking, out-parameters, the last error.
 * Built and run by tests/c/run.sh against the installed header and library. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#ifndef VOD_EXPECTED_VERSION
#error "build with -DVOD_EXPECTED_VERSION=\"x.y.z\" (the version in Cargo.toml)"
#endif

/* A pointer value no allocator returns, to prove an out-parameter was left untouched. */
#define SENTINEL ((void *)(uintptr_t)0x5e5e5e5e)

static const char *const ID = "AKIDtest";
static const char *const KEY = "testkey";

static void test_version(void) {
    CHECK(strcmp(vod_version(), VOD_EXPECTED_VERSION) == 0);
}

static void test_strerror(void) {
    static const vod_status all[] = {
        VOD_OK, VOD_ERR_INVALID_ARGUMENT, VOD_ERR_PANIC, VOD_ERR_BUFFER_TOO_SMALL,
        VOD_ERR_INVALID_INPUT, VOD_ERR_IO, VOD_ERR_NOT_FOUND, VOD_ERR_PERMISSION_DENIED,
        VOD_ERR_FILE_CHANGED, VOD_ERR_NETWORK, VOD_ERR_TIMEOUT, VOD_ERR_PROTOCOL, VOD_ERR_AUTH,
        VOD_ERR_SERVER, VOD_ERR_ABORTED, VOD_ERR_UNKNOWN,
    };
    size_t n = sizeof all / sizeof all[0];
    for (size_t i = 0; i < n; i++) {
        const char *s = vod_strerror(all[i]);
        CHECK(s != NULL && s[0] != '\0');
        CHECK(strcmp(s, "unknown status") != 0);
        for (size_t j = 0; j < i; j++) {
            CHECK(strcmp(s, vod_strerror(all[j])) != 0);
        }
    }
    CHECK(strcmp(vod_strerror(VOD_OK), "success") == 0);
    CHECK(strcmp(vod_strerror((vod_status)1), "unknown status") == 0);
    CHECK(strcmp(vod_strerror((vod_status)UINT32_MAX), "unknown status") == 0);
    /* The published values: part of the ABI. */
    CHECK(VOD_ERR_INVALID_ARGUMENT == 1000 && VOD_ERR_PANIC == 1001);
    CHECK(VOD_ERR_INVALID_INPUT == 2000 && VOD_ERR_IO == 2100 && VOD_ERR_NOT_FOUND == 2101);
    CHECK(VOD_ERR_FILE_CHANGED == 2200 && VOD_ERR_NETWORK == 3000 && VOD_ERR_TIMEOUT == 3100);
    CHECK(VOD_ERR_PROTOCOL == 3200 && VOD_ERR_AUTH == 4000 && VOD_ERR_SERVER == 4100);
    CHECK(VOD_ERR_ABORTED == 5000);
    CHECK(sizeof(vod_status) == 4);
}

/* The provider's documented known answer (docs/protocol.md, "The signature"). */
static const char *const KA_KEYS[] = {"Action", "Nonce", "Region", "SecretId", "Timestamp",
                                      "instanceIds.0", "limit", "offset"};
static const char *const KA_VALUES[] = {"DescribeInstances", "11886", "gz",
                                        "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA", "1465185768",
                                        "ins-09dx96dg", "20", "0"};
#define KA_N (sizeof KA_KEYS / sizeof KA_KEYS[0])
static const char *const KA_SECRET = "Gu5t9xGARNpq86cd98joQYCN3Cozk1qA";
static const char *const KA_STRING =
    "GETcvm.api.qcloud.com/v2/index.php?Action=DescribeInstances&Nonce=11886&Region=gz"
    "&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA&Timestamp=1465185768"
    "&instanceIds.0=ins-09dx96dg&limit=20&offset=0";
static const char *const KA_SIGNATURE = "NSI3UqqD99b/UJb4tbG/xZpRW64=";

static void test_sign_known_answer(void) {
    char out[VOD_SIGNATURE_MAX];
    size_t written = 0;
    CHECK_OK(vod_sign("GET", "cvm.api.qcloud.com", "/v2/index.php", KA_KEYS, KA_VALUES, KA_N,
                      KA_SECRET, NULL, out, sizeof out, &written));
    CHECK(strcmp(out, KA_SIGNATURE) == 0);
    CHECK(written == strlen(KA_SIGNATURE));

    /* Explicit method name, lowercase HTTP method, parameters in another order, '_' in a key. */
    const char *keys[] = {"offset", "limit", "instanceIds_0", "Timestamp", "SecretId", "Region",
                          "Nonce", "Action"};
    const char *values[] = {"0", "20", "ins-09dx96dg", "1465185768",
                            "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA", "gz", "11886",
                            "DescribeInstances"};
    memset(out, 0, sizeof out);
    CHECK_OK(vod_sign("get", "cvm.api.qcloud.com", "/v2/index.php", keys, values, 8, KA_SECRET,
                      "HmacSHA1", out, sizeof out, NULL));
    CHECK(strcmp(out, KA_SIGNATURE) == 0);

    /* The string to sign, with a size query first. */
    size_t len = 0;
    CHECK_OK(vod_string_to_sign("GET", "cvm.api.qcloud.com", "/v2/index.php", keys, values, 8,
                                NULL, 0, &len));
    CHECK(len == strlen(KA_STRING));
    char *s = malloc(len + 1);
    CHECK(s != NULL);
    if (s != NULL) {
        CHECK_OK(vod_string_to_sign("GET", "cvm.api.qcloud.com", "/v2/index.php", keys, values, 8,
                                    s, len + 1, &written));
        CHECK(strcmp(s, KA_STRING) == 0);
        CHECK(written == len);
        /* One byte short: nothing is written. */
        memset(s, 'x', len + 1);
        CHECK_STATUS(vod_string_to_sign("GET", "cvm.api.qcloud.com", "/v2/index.php", keys,
                                        values, 8, s, len, &written),
                     VOD_ERR_BUFFER_TOO_SMALL);
        CHECK(s[0] == 'x' && s[len] == 'x');
        free(s);
    }

    /* HmacSHA256: 32 bytes, 44 Base64 characters. */
    CHECK_OK(vod_sign("GET", "cvm.api.qcloud.com", "/v2/index.php", KA_KEYS, KA_VALUES, KA_N,
                      KA_SECRET, "HmacSHA256", out, sizeof out, &written));
    CHECK(written == 44 && strlen(out) == 44);

    /* A buffer too small is refused and left untouched; so is an unknown method. */
    char small[8];
    memset(small, 'x', sizeof small);
    written = 12345;
    CHECK_STATUS(vod_sign("GET", "cvm.api.qcloud.com", "/v2/index.php", KA_KEYS, KA_VALUES, KA_N,
                          KA_SECRET, NULL, small, sizeof small, &written),
                 VOD_ERR_BUFFER_TOO_SMALL);
    CHECK_LAST_ERROR_HAS("29 bytes");
    CHECK(small[0] == 'x' && written == 12345);
    CHECK_STATUS(vod_sign("GET", "h", "/", KA_KEYS, KA_VALUES, KA_N, KA_SECRET, "MD5", out,
                          sizeof out, &written),
                 VOD_ERR_INVALID_INPUT);
    CHECK_LAST_ERROR_HAS("HmacSHA256");
    /* No parameters at all is allowed (NULL arrays with n = 0). */
    CHECK_OK(vod_sign("GET", "h", "/", NULL, NULL, 0, "k", NULL, out, sizeof out, NULL));
    /* Not UTF-8. */
    const char *bad_keys[] = {"a\xff"};
    const char *bad_values[] = {"1"};
    CHECK_STATUS(vod_sign("GET", "h", "/", bad_keys, bad_values, 1, "k", NULL, out, sizeof out,
                          NULL),
                 VOD_ERR_INVALID_INPUT);
}

/* The NULL results of the value-returning functions also set the last status. */
#define CHECK_NULL_ARG_VALUE(expr, fallback)                                                \
    do {                                                                                    \
        CHECK((expr) == (fallback));                                                        \
        CHECK(vod_last_status() == VOD_ERR_INVALID_ARGUMENT);                               \
    } while (0)

static int32_t never_called(void *user_data, uint64_t done, uint64_t total) {
    (void)user_data;
    (void)done;
    (void)total;
    return 0;
}

/* Every function of the header with NULL for each pointer argument: a status or a documented
 * fallback, never a crash. tests/c/run.sh checks that every function declared in vodupload.h
 * appears between the BEGIN and END markers. */
static void test_null_arguments(void) {
    vod_client *client = SENTINEL;
    vod_upload *upload = SENTINEL;
    vod_upload_result *result = SENTINEL;
    vod_upload_options *options = SENTINEL;
    char buf[VOD_SIGNATURE_MAX];
    size_t written = 0;
    const char *keys[] = {"a", NULL};
    const char *values[] = {"1", "2"};
    vod_event *event = SENTINEL;
    vod_event_list *list = SENTINEL;
    const char *handles[] = {"h"};

    /* BEGIN-NULL-TESTS */
    CHECK(vod_version() != NULL);
    CHECK(vod_strerror(VOD_ERR_INVALID_ARGUMENT) != NULL);
    CHECK(vod_last_error() != NULL);
    (void)vod_last_status();
    (void)vod_last_server_code();
    (void)vod_last_can_retry();

    /* A NULL credential comes from the environment, which has none here. */
    unsetenv("TENCENTCLOUD_SECRET_ID");
    unsetenv("TENCENTCLOUD_SECRET_KEY");
    CHECK_STATUS(vod_client_new(NULL, KEY, NULL, &client), VOD_ERR_INVALID_INPUT);
    CHECK_LAST_ERROR_HAS("a SecretKey was given without a SecretId: pass both, or set TENCENTCLOUD_SECRET_ID");
    CHECK(vod_last_server_code() == 0 && !vod_last_can_retry());
    CHECK_STATUS(vod_client_new(ID, NULL, NULL, &client), VOD_ERR_INVALID_INPUT);
    CHECK_LAST_ERROR_HAS("a SecretId was given without a SecretKey");
    CHECK_STATUS(vod_client_new(ID, KEY, NULL, NULL), VOD_ERR_INVALID_ARGUMENT);
    CHECK(client == SENTINEL);
    CHECK_STATUS(vod_client_new_from_env(NULL, NULL), VOD_ERR_INVALID_ARGUMENT);
    vod_client_free(NULL);
    CHECK_STATUS(vod_client_set_part_size(NULL, 524288), VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_client_set_concurrency(NULL, 2), VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_client_set_ca_file(NULL, "/x.pem"), VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_client_set_max_attempts(NULL, 2), VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_client_set_connect_timeout_ms(NULL, 100), VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_client_set_request_timeout_ms(NULL, 100), VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_client_set_region(NULL, "gz"), VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_client_set_signature_method(NULL, "HmacSHA1"), VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_client_set_rate_limiting(NULL, false), VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_client_set_proxy(NULL, "http://127.0.0.1:1"), VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_client_set_events_endpoint(NULL, "http://127.0.0.1:1/v2/index.php"),
                 VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_client_set_events_endpoint(NULL, NULL), VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_client_set_retry_base_delay_ms(NULL, 10), VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_client_set_retry_max_delay_ms(NULL, 10), VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_client_set_fingerprint_cache(NULL, NULL), VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_client_set_option(NULL, "concurrency", "2"), VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_client_set_rate_limits(NULL, 1, 1), VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_client_set_pacing_url(NULL, NULL), VOD_ERR_INVALID_ARGUMENT);
    CHECK(vod_client_option_name(0) != NULL);
    CHECK(vod_upload_option_name(0) != NULL);
    CHECK(vod_upload_result_field_name(0) != NULL);
    CHECK(vod_client_option_name(100000) == NULL);
    CHECK(vod_client_option_kind(0) != NULL && vod_client_option_kind(100000) == NULL);
    CHECK(vod_upload_option_kind(0) != NULL && vod_upload_option_kind(100000) == NULL);

    CHECK_STATUS(vod_upload_options_new(NULL), VOD_ERR_INVALID_ARGUMENT);
    vod_upload_options_free(NULL);
    CHECK_STATUS(vod_upload_options_set_name(NULL, "n"), VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_upload_options_set_type(NULL, "mp4"), VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_upload_options_add_tag(NULL, "t"), VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_upload_options_clear_tags(NULL), VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_upload_options_set_class_id(NULL, 1), VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_upload_options_set_transcode(NULL, true), VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_upload_options_set_screenshot(NULL, true), VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_upload_options_set_watermark(NULL, true), VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_upload_options_set_hash_progress(NULL, never_called, NULL),
                 VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_upload_options_set(NULL, "name", "n"), VOD_ERR_INVALID_ARGUMENT);

    CHECK_STATUS(vod_upload_file(NULL, "/x.mp4", never_called, NULL, &result),
                 VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_upload_file_with_options(NULL, "/x.mp4", NULL, NULL, NULL, &result),
                 VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_upload_begin(NULL, "/x.mp4", &upload), VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_upload_begin_with_options(NULL, "/x.mp4", NULL, &upload),
                 VOD_ERR_INVALID_ARGUMENT);
    CHECK_NULL_ARG_VALUE(vod_upload_part_count(NULL), 0);
    CHECK_NULL_ARG_VALUE(vod_upload_part_needed(NULL, 0), false);
    CHECK_NULL_ARG_VALUE(vod_upload_part_size(NULL), 0);
    CHECK_NULL_ARG_VALUE(vod_upload_bytes_done(NULL), 0);
    CHECK_NULL_ARG_VALUE(vod_upload_bytes_total(NULL), 0);
    CHECK_NULL_ARG_VALUE(vod_upload_is_instant(NULL), false);
    CHECK_STATUS(vod_upload_part(NULL, 0), VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_upload_finish(NULL, &result), VOD_ERR_INVALID_ARGUMENT);
    vod_upload_cancel(NULL);
    CHECK(vod_last_status() == VOD_ERR_INVALID_ARGUMENT);
    vod_upload_free(NULL);
    CHECK(upload == SENTINEL && result == SENTINEL);

    CHECK_NULL_ARG_VALUE(vod_upload_result_file_id(NULL), NULL);
    CHECK_NULL_ARG_VALUE(vod_upload_result_url(NULL), NULL);
    CHECK_NULL_ARG_VALUE(vod_upload_result_instant(NULL), false);
    CHECK_NULL_ARG_VALUE(vod_upload_result_file_sha1(NULL), NULL);
    CHECK_NULL_ARG_VALUE(vod_upload_result_file_size(NULL), 0);
    CHECK_NULL_ARG_VALUE(vod_upload_result_parts_total(NULL), 0);
    CHECK_NULL_ARG_VALUE(vod_upload_result_parts_uploaded(NULL), 0);
    CHECK_NULL_ARG_VALUE(vod_upload_result_parts_skipped(NULL), 0);
    CHECK_NULL_ARG_VALUE(vod_upload_result_bytes_sent(NULL), 0);
    CHECK_NULL_ARG_VALUE(vod_upload_result_elapsed_ms(NULL), 0);
    CHECK_NULL_ARG_VALUE(vod_upload_result_retries(NULL), 0);
    CHECK_NULL_ARG_VALUE(vod_upload_result_concurrency_peak(NULL), 0);
    CHECK_STATUS(vod_client_set_concurrency_auto(NULL), VOD_ERR_INVALID_ARGUMENT);
    vod_upload_result_free(NULL);

    CHECK_STATUS(vod_sign(NULL, "h", "/", NULL, NULL, 0, "k", NULL, buf, sizeof buf, &written),
                 VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_sign("GET", NULL, "/", NULL, NULL, 0, "k", NULL, buf, sizeof buf, &written),
                 VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_sign("GET", "h", NULL, NULL, NULL, 0, "k", NULL, buf, sizeof buf, &written),
                 VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_sign("GET", "h", "/", NULL, values, 1, "k", NULL, buf, sizeof buf, &written),
                 VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_sign("GET", "h", "/", keys, NULL, 1, "k", NULL, buf, sizeof buf, &written),
                 VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_sign("GET", "h", "/", keys, values, 2, "k", NULL, buf, sizeof buf, &written),
                 VOD_ERR_INVALID_ARGUMENT);
    CHECK_LAST_ERROR_HAS("keys[1] is NULL");
    CHECK_STATUS(vod_sign("GET", "h", "/", NULL, NULL, 0, NULL, NULL, buf, sizeof buf, &written),
                 VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_sign("GET", "h", "/", NULL, NULL, 0, "k", NULL, NULL, sizeof buf, &written),
                 VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_sign("GET", "h", "/", NULL, NULL, 0, "k", NULL, NULL, 0, &written),
                 VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_string_to_sign(NULL, "h", "/", NULL, NULL, 0, buf, sizeof buf, &written),
                 VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_string_to_sign("GET", NULL, "/", NULL, NULL, 0, buf, sizeof buf, &written),
                 VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_string_to_sign("GET", "h", NULL, NULL, NULL, 0, buf, sizeof buf, &written),
                 VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_string_to_sign("GET", "h", "/", keys, NULL, 1, buf, sizeof buf, &written),
                 VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_string_to_sign("GET", "h", "/", NULL, NULL, 0, NULL, 0, NULL),
                 VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_string_to_sign("GET", "h", "/", NULL, NULL, 0, NULL, 5, &written),
                 VOD_ERR_INVALID_ARGUMENT);

    CHECK_STATUS(vod_event_parse(NULL, 2, &event), VOD_ERR_INVALID_ARGUMENT);
    CHECK_LAST_ERROR_HAS("vod_event_parse: json is NULL");
    CHECK_STATUS(vod_event_parse(NULL, 0, &event), VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_event_parse("{}", 2, NULL), VOD_ERR_INVALID_ARGUMENT);
    CHECK(event == SENTINEL);
    CHECK_NULL_ARG_VALUE(vod_event_event_type(NULL), NULL);
    CHECK_NULL_ARG_VALUE(vod_event_is_new_file_upload(NULL), false);
    CHECK_NULL_ARG_VALUE(vod_event_version(NULL), NULL);
    CHECK_NULL_ARG_VALUE(vod_event_file_id(NULL), NULL);
    CHECK_NULL_ARG_VALUE(vod_event_file_url(NULL), NULL);
    CHECK_NULL_ARG_VALUE(vod_event_file_name(NULL), NULL);
    CHECK_NULL_ARG_VALUE(vod_event_source_type(NULL), NULL);
    CHECK_NULL_ARG_VALUE(vod_event_source_context(NULL), NULL);
    CHECK_NULL_ARG_VALUE(vod_event_transcode_task_id(NULL), NULL);
    CHECK_NULL_ARG_VALUE(vod_event_procedure_task_id(NULL), NULL);
    CHECK_NULL_ARG_VALUE(vod_event_raw_json(NULL), NULL);
    vod_event_free(NULL);
    CHECK_STATUS(vod_events_pull(NULL, &list), VOD_ERR_INVALID_ARGUMENT);
    CHECK_LAST_ERROR_HAS("vod_events_pull: client is NULL");
    CHECK_NULL_ARG_VALUE(vod_event_list_count(NULL), 0);
    CHECK_NULL_ARG_VALUE(vod_event_list_msg_handle(NULL, 0), NULL);
    CHECK_NULL_ARG_VALUE(vod_event_list_event(NULL, 0), NULL);
    vod_event_list_free(NULL);
    CHECK_STATUS(vod_events_confirm(NULL, handles, 1), VOD_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(vod_events_confirm(NULL, NULL, 0), VOD_ERR_INVALID_ARGUMENT);
    CHECK(list == SENTINEL);
    /* END-NULL-TESTS */

    /* With a real client and options: the other pointer arguments. */
    CHECK_OK(vod_client_new(ID, KEY, "http://127.0.0.1:9/v2/index.php", &client));
    CHECK_OK(vod_upload_options_new(&options));
    if (client != SENTINEL && options != SENTINEL) {
        CHECK_STATUS(vod_client_set_ca_file(client, NULL), VOD_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(vod_client_set_region(client, NULL), VOD_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(vod_client_set_signature_method(client, NULL), VOD_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(vod_client_set_proxy(client, NULL), VOD_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(vod_upload_options_set_name(options, NULL), VOD_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(vod_upload_options_set_type(options, NULL), VOD_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(vod_upload_options_add_tag(options, NULL), VOD_ERR_INVALID_ARGUMENT);
        /* A NULL callback is allowed: it removes the hashing callback. */
        CHECK_OK(vod_upload_options_set_hash_progress(options, NULL, NULL));
        CHECK_STATUS(vod_upload_file(client, NULL, NULL, NULL, &result), VOD_ERR_INVALID_ARGUMENT);
        CHECK_LAST_ERROR_HAS("vod_upload_file: path is NULL");
        CHECK_STATUS(vod_upload_file(client, "/x.mp4", NULL, NULL, NULL), VOD_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(vod_upload_file_with_options(client, NULL, options, NULL, NULL, &result),
                     VOD_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(vod_upload_file_with_options(client, "/x.mp4", options, NULL, NULL, NULL),
                     VOD_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(vod_upload_begin(client, NULL, &upload), VOD_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(vod_upload_begin(client, "/x.mp4", NULL), VOD_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(vod_upload_begin_with_options(client, NULL, options, &upload),
                     VOD_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(vod_upload_begin_with_options(client, "/x.mp4", options, NULL),
                     VOD_ERR_INVALID_ARGUMENT);
        CHECK(upload == SENTINEL && result == SENTINEL);
        CHECK_STATUS(vod_events_pull(client, NULL), VOD_ERR_INVALID_ARGUMENT);
        CHECK_LAST_ERROR_HAS("vod_events_pull: out is NULL");
        CHECK_STATUS(vod_events_confirm(client, NULL, 1), VOD_ERR_INVALID_ARGUMENT);
        CHECK_LAST_ERROR_HAS("msg_handles is NULL");
        const char *null_handle[] = {NULL};
        CHECK_STATUS(vod_events_confirm(client, null_handle, 1), VOD_ERR_INVALID_ARGUMENT);
        CHECK_LAST_ERROR_HAS("msg_handles[0] is NULL");
        /* NULL restores the default events endpoint. */
        CHECK_OK(vod_client_set_events_endpoint(client, NULL));
    }
    if (client != SENTINEL) vod_client_free(client);
    if (options != SENTINEL) vod_upload_options_free(options);
}

static void test_client_settings_are_checked(void) {
    vod_client *client = SENTINEL;
    CHECK_STATUS(vod_client_new(ID, KEY, "not a url", &client), VOD_ERR_INVALID_INPUT);
    CHECK_LAST_ERROR_HAS("endpoint");
    CHECK_STATUS(vod_client_new(ID, KEY, "ftp://h/v2/index.php", &client), VOD_ERR_INVALID_INPUT);
    CHECK_STATUS(vod_client_new("", KEY, NULL, &client), VOD_ERR_INVALID_INPUT);
    CHECK_STATUS(vod_client_new(ID, "SECRETPART\n", NULL, &client), VOD_ERR_INVALID_INPUT);
    CHECK_LAST_ERROR_HAS("SecretKey");
    /* The message never shows the key. */
    CHECK(strstr(vod_last_error(), "SECRETPART") == NULL);
    CHECK_STATUS(vod_client_new("AKID\xff", KEY, NULL, &client), VOD_ERR_INVALID_INPUT);
    CHECK_LAST_ERROR_HAS("UTF-8");
    CHECK(client == SENTINEL);

    CHECK_OK(vod_client_new(ID, KEY, NULL, &client));
    CHECK(client != SENTINEL && client != NULL);
    if (client == SENTINEL) return;
    CHECK_STATUS(vod_client_set_part_size(client, 1000), VOD_ERR_INVALID_INPUT);
    CHECK_LAST_ERROR_HAS("524288");
    CHECK_OK(vod_client_set_part_size(client, 524288));
    CHECK_OK(vod_client_set_part_size(client, 1048576));
    CHECK_STATUS(vod_client_set_concurrency(client, 0), VOD_ERR_INVALID_INPUT);
    CHECK_STATUS(vod_client_set_concurrency(client, 65), VOD_ERR_INVALID_INPUT);
    CHECK_OK(vod_client_set_concurrency(client, 64));
    CHECK_STATUS(vod_client_set_max_attempts(client, 0), VOD_ERR_INVALID_INPUT);
    CHECK_OK(vod_client_set_max_attempts(client, 1));
    CHECK_STATUS(vod_client_set_connect_timeout_ms(client, 0), VOD_ERR_INVALID_INPUT);
    CHECK_LAST_ERROR_HAS("connect_timeout must be more than 0 and at most 86400 seconds, not 0");
    CHECK_STATUS(vod_client_set_request_timeout_ms(client, 0), VOD_ERR_INVALID_INPUT);
    CHECK_OK(vod_client_set_connect_timeout_ms(client, 2000));
    CHECK_OK(vod_client_set_request_timeout_ms(client, 5000));
    CHECK_STATUS(vod_client_set_region(client, "g z"), VOD_ERR_INVALID_INPUT);
    CHECK_OK(vod_client_set_region(client, "bj"));
    CHECK_STATUS(vod_client_set_signature_method(client, "MD5"), VOD_ERR_INVALID_INPUT);
    CHECK_OK(vod_client_set_signature_method(client, "hmacsha256"));
    CHECK_STATUS(vod_client_set_ca_file(client, "/nonexistent/ca.pem"), VOD_ERR_NOT_FOUND);
    CHECK_LAST_ERROR_HAS("CA file");
    CHECK_STATUS(vod_client_set_proxy(client, "::not a proxy::"), VOD_ERR_INVALID_INPUT);
    CHECK_OK(vod_client_set_proxy(client, "http://127.0.0.1:3128"));
    CHECK_OK(vod_client_set_rate_limiting(client, false));
    CHECK_OK(vod_client_set_rate_limiting(client, true));
    CHECK_STATUS(vod_client_set_events_endpoint(client, "ftp://x/y"), VOD_ERR_INVALID_INPUT);
    CHECK_LAST_ERROR_HAS("events endpoint");
    CHECK_STATUS(vod_client_set_events_endpoint(client, "not a url"), VOD_ERR_INVALID_INPUT);
    CHECK_OK(vod_client_set_events_endpoint(client, "https://vod.api.qcloud.com/v3/index.php"));
    vod_client_free(client);
}

static void test_client_from_env(void) {
    vod_client *client = SENTINEL;
    unsetenv("TENCENTCLOUD_SECRET_ID");
    unsetenv("TENCENTCLOUD_SECRET_KEY");
    CHECK_STATUS(vod_client_new_from_env(NULL, &client), VOD_ERR_INVALID_INPUT);
    CHECK_LAST_ERROR_HAS("TENCENTCLOUD_SECRET_ID");
    CHECK(client == SENTINEL);
    setenv("TENCENTCLOUD_SECRET_ID", ID, 1);
    setenv("TENCENTCLOUD_SECRET_KEY", KEY, 1);
    CHECK_OK(vod_client_new_from_env("http://127.0.0.1:9/v2/index.php", &client));
    CHECK(client != SENTINEL);
    if (client != SENTINEL) vod_client_free(client);
    unsetenv("TENCENTCLOUD_SECRET_ID");
    unsetenv("TENCENTCLOUD_SECRET_KEY");
}

static void test_options_are_checked(void) {
    vod_upload_options *o = SENTINEL;
    CHECK_OK(vod_upload_options_new(&o));
    CHECK(o != SENTINEL && o != NULL);
    if (o == SENTINEL) return;
    CHECK_OK(vod_upload_options_set_name(o, "holiday 2024"));
    CHECK_STATUS(vod_upload_options_set_name(o, "a/b"), VOD_ERR_INVALID_INPUT);
    CHECK_LAST_ERROR_HAS("a/b");
    CHECK_STATUS(vod_upload_options_set_name(o, ""), VOD_ERR_INVALID_INPUT);
    CHECK_STATUS(vod_upload_options_set_name(o, "0123456789012345678901234567890123456789X"),
                 VOD_ERR_INVALID_INPUT);
    CHECK_STATUS(vod_upload_options_set_name(o, "caf\xe9"), VOD_ERR_INVALID_INPUT);
    CHECK_OK(vod_upload_options_set_name(o, "caf\xc3\xa9"));
    CHECK_OK(vod_upload_options_set_type(o, "mp4"));
    CHECK_OK(vod_upload_options_add_tag(o, "one"));
    CHECK_OK(vod_upload_options_add_tag(o, "two"));
    CHECK_OK(vod_upload_options_clear_tags(o));
    CHECK_OK(vod_upload_options_set_class_id(o, 7));
    CHECK_OK(vod_upload_options_set_class_id(o, -1));
    CHECK_OK(vod_upload_options_set_transcode(o, true));
    CHECK_OK(vod_upload_options_set_screenshot(o, true));
    CHECK_OK(vod_upload_options_set_watermark(o, false));
    CHECK_OK(vod_upload_options_set_hash_progress(o, never_called, NULL));
    vod_upload_options_free(o);
}

/* The endpoint is given when the client is made. */
static vod_status endpoint_is_settable(void) {
    vod_client *c = NULL;
    vod_status s = vod_client_new(ID, KEY, "http://127.0.0.1:1/v2/index.php", &c);
    vod_client_free(c);
    return s;
}

/* Every option the library has is settable here, and every result field readable: the tables
 * below must cover exactly the names the library lists, so an option added to the core without
 * its C setter fails this test. */
static void test_every_option_and_field_is_covered(void) {
    vod_client *c = NULL;
    CHECK_OK(vod_client_new(ID, KEY, NULL, &c));
    if (c == NULL) return;
    char cache[] = "/tmp/vod-c-cache-XXXXXX";
    CHECK(mkdtemp(cache) != NULL);
    struct {
        const char *name;
        vod_status status;
        const char *text; /* the same option through vod_client_set_option */
    } client_options[] = {
        {"endpoint", endpoint_is_settable(), "http://127.0.0.1:1/v2/index.php"},
        {"region", vod_client_set_region(c, "bj"), "sh"},
        {"part_size", vod_client_set_part_size(c, 524288), "1048576"},
        {"concurrency", vod_client_set_concurrency(c, 8), "auto"},
        {"max_attempts", vod_client_set_max_attempts(c, 3), "4"},
        {"retry_base_delay", vod_client_set_retry_base_delay_ms(c, 100), "0.2"},
        {"retry_max_delay", vod_client_set_retry_max_delay_ms(c, 1000), "2"},
        {"connect_timeout", vod_client_set_connect_timeout_ms(c, 5000), "4.5"},
        {"request_timeout", vod_client_set_request_timeout_ms(c, 30000), "45"},
        {"ca_file", VOD_OK, NULL}, /* checked below: the file is read at once */
        {"proxy", vod_client_set_proxy(c, "http://127.0.0.1:3128"), "http://127.0.0.1:3129"},
        {"signature_method", vod_client_set_signature_method(c, "HmacSHA256"), "HmacSHA1"},
        {"rate_limit", vod_client_set_rate_limiting(c, false), "true"},
        {"rate_upload_part", vod_client_set_rate_limits(c, 3000, 100), "2000"},
        {"rate_init_finish", vod_client_set_rate_limits(c, 10000, 50), "60"},
        {"pacing_url", vod_client_set_pacing_url(c, "redis://:pw@127.0.0.1:6379/1"), "redis://127.0.0.1:6379/2?strict=true"},
        {"fingerprint_cache", vod_client_set_fingerprint_cache(c, cache), cache},
        {"events_endpoint", vod_client_set_events_endpoint(c, "http://127.0.0.1:1/e"), "http://127.0.0.1:2/e"},
    };
    const size_t n_client = sizeof client_options / sizeof client_options[0];
    size_t listed = 0;
    for (const char *name; (name = vod_client_option_name(listed)) != NULL; listed++) {
        int found = 0;
        for (size_t i = 0; i < n_client; i++) {
            if (strcmp(client_options[i].name, name) != 0) continue;
            found = 1;
            if (strcmp(name, "ca_file") == 0) {
                /* Read at once: a missing file is the proof the option reached the core. */
                CHECK_STATUS(vod_client_set_ca_file(c, "/nonexistent.pem"), VOD_ERR_NOT_FOUND);
                CHECK_STATUS(vod_client_set_option(c, name, "/nonexistent.pem"), VOD_ERR_NOT_FOUND);
            } else {
                CHECK_OK(client_options[i].status);
                CHECK_OK(vod_client_set_option(c, name, client_options[i].text));
            }
            CHECK_OK(vod_client_set_option(c, name, NULL)); /* back to the default */
        }
        if (!found) fprintf(stderr, "    no C setter in this test for the client option %s\n", name);
        CHECK(found);
    }
    CHECK(listed == n_client);
    /* Kinds name what the text must be; a path option takes bytes as on the file system. */
    for (size_t i = 0; vod_client_option_name(i) != NULL; i++) {
        if (strcmp(vod_client_option_name(i), "request_timeout") == 0)
            CHECK(strcmp(vod_client_option_kind(i), "seconds") == 0);
        if (strcmp(vod_client_option_name(i), "fingerprint_cache") == 0)
            CHECK(strcmp(vod_client_option_kind(i), "path") == 0);
    }
    char bytes_dir[64];
    snprintf(bytes_dir, sizeof bytes_dir, "%s/caf\xe9", cache);
    CHECK(mkdir(bytes_dir, 0700) == 0);
    CHECK_OK(vod_client_set_option(c, "fingerprint_cache", bytes_dir));
    CHECK_OK(vod_client_set_option(c, "fingerprint_cache", NULL));
    rmdir(bytes_dir);
    CHECK_STATUS(vod_client_set_option(c, "concurency", "2"), VOD_ERR_INVALID_INPUT);
    CHECK_LAST_ERROR_HAS("unknown client option \"concurency\": the client options are endpoint");
    CHECK_OK(vod_client_set_concurrency_auto(c));
    CHECK_STATUS(vod_client_set_option(c, "concurrency", "lots"), VOD_ERR_INVALID_INPUT);
    CHECK_LAST_ERROR_HAS("concurrency must be auto or a number of parts from 1 to 64, not \"lots\"");
    vod_client_free(c);

    vod_upload_options *o = NULL;
    CHECK_OK(vod_upload_options_new(&o));
    if (o == NULL) return;
    struct {
        const char *name;
        vod_status status;
        const char *text;
    } upload_options[] = {
        {"name", vod_upload_options_set_name(o, "clip"), "other clip"},
        {"file_type", vod_upload_options_set_type(o, "mp4"), "flv"},
        {"tags", vod_upload_options_add_tag(o, "a"), "b"},
        {"class_id", vod_upload_options_set_class_id(o, 3), "4"},
        {"transcode", vod_upload_options_set_transcode(o, true), "false"},
        {"screenshot", vod_upload_options_set_screenshot(o, true), "1"},
        {"watermark", vod_upload_options_set_watermark(o, true), "0"},
    };
    const size_t n_upload = sizeof upload_options / sizeof upload_options[0];
    listed = 0;
    for (const char *name; (name = vod_upload_option_name(listed)) != NULL; listed++) {
        int found = 0;
        for (size_t i = 0; i < n_upload; i++) {
            if (strcmp(upload_options[i].name, name) != 0) continue;
            found = 1;
            CHECK_OK(upload_options[i].status);
            CHECK_OK(vod_upload_options_set(o, name, upload_options[i].text));
            CHECK_OK(vod_upload_options_set(o, name, NULL));
        }
        if (!found) fprintf(stderr, "    no C setter in this test for the upload option %s\n", name);
        CHECK(found);
    }
    CHECK(listed == n_upload);
    CHECK_STATUS(vod_upload_options_set(o, "class_id", "-2"), VOD_ERR_INVALID_INPUT);
    CHECK_LAST_ERROR_HAS("class_id -2 is out of range");
    vod_upload_options_free(o);

    /* Result fields: each has an accessor (a NULL result reads as zero). */
    const char *fields[] = {"file_id", "url", "instant", "file_sha1", "file_size", "parts_total",
                            "parts_uploaded", "parts_skipped", "bytes_sent", "retries", "elapsed",
                            "concurrency_peak"};
    (void)vod_upload_result_file_id(NULL), (void)vod_upload_result_url(NULL);
    (void)vod_upload_result_instant(NULL), (void)vod_upload_result_file_sha1(NULL);
    (void)vod_upload_result_file_size(NULL), (void)vod_upload_result_parts_total(NULL);
    (void)vod_upload_result_parts_uploaded(NULL), (void)vod_upload_result_parts_skipped(NULL);
    (void)vod_upload_result_bytes_sent(NULL), (void)vod_upload_result_retries(NULL);
    (void)vod_upload_result_elapsed_ms(NULL), (void)vod_upload_result_concurrency_peak(NULL);
    const size_t n_fields = sizeof fields / sizeof fields[0];
    listed = 0;
    for (const char *name; (name = vod_upload_result_field_name(listed)) != NULL; listed++) {
        int found = 0;
        for (size_t i = 0; i < n_fields; i++) found |= strcmp(fields[i], name) == 0;
        if (!found) fprintf(stderr, "    no C accessor in this test for the result field %s\n", name);
        CHECK(found);
    }
    CHECK(listed == n_fields);
    rmdir(cache);
}

static void *fail_on_other_thread(void *arg) {
    (void)arg;
    /* A fresh thread has no last error. */
    int fresh = vod_last_status() == VOD_OK && vod_last_error()[0] == '\0';
    vod_client *c = NULL;
    vod_status s = vod_client_new(ID, KEY, "not a url", &c);
    int own = s == VOD_ERR_INVALID_INPUT && strstr(vod_last_error(), "not a url") != NULL;
    return (void *)(uintptr_t)(fresh && own);
}

static void test_last_error_is_per_thread(void) {
    vod_client *c = NULL;
    CHECK_STATUS(vod_client_set_part_size(NULL, 1), VOD_ERR_INVALID_ARGUMENT);
    pthread_t t;
    void *ok = NULL;
    CHECK(pthread_create(&t, NULL, fail_on_other_thread, NULL) == 0);
    CHECK(pthread_join(t, &ok) == 0);
    CHECK(ok == (void *)1);
    /* This thread's message is still its own. */
    CHECK_LAST_ERROR_HAS("vod_client_set_part_size: client is NULL");
    /* A success leaves it (like errno). */
    CHECK_OK(vod_client_new(ID, KEY, NULL, &c));
    CHECK_LAST_ERROR_HAS("vod_client_set_part_size");
    vod_client_free(c);
}

int main(void) {
    RUN_TEST(test_version);
    RUN_TEST(test_strerror);
    RUN_TEST(test_sign_known_answer);
    RUN_TEST(test_null_arguments);
    RUN_TEST(test_client_settings_are_checked);
    RUN_TEST(test_client_from_env);
    RUN_TEST(test_options_are_checked);
    RUN_TEST(test_every_option_and_field_is_covered);
    RUN_TEST(test_last_error_is_per_thread);
    return harness_finish("test_api");
}
