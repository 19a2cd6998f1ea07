/* Tests of libvodupload against the emulator (vodupload-emulator), over real sockets: the
 * one-call upload with progress, abort and resume, the step-by-step API with resume, a wrong key,
 * four threads sharing one client, non-UTF-8 paths, options, file errors, network errors,
 * timeouts and TLS with a CA file.
 *
 * Built and run by tests/c/run.sh, which starts the emulators and sets:
 *   VOD_TEST_ENDPOINT       http://127.0.0.1:PORT/v2/index.php (an emulator without rate limits)
 *   VOD_TEST_SLOW_ENDPOINT  an emulator that answers after 1.5 s
 *   VOD_TEST_TLS_ENDPOINT   an HTTPS emulator with a self-signed certificate...
 *   VOD_TEST_CA_FILE        ...which is in this PEM file
 *   VOD_TEST_ID, VOD_TEST_KEY  the credential the emulators accept
 *   VOD_TEST_DIR            an empty directory for the test files
 *   VOD_TEST_SEED           makes this run's file contents unique (the emulators keep files)
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define PART ((uint64_t)524288)
#define SENTINEL ((void *)(uintptr_t)0x5e5e5e5e)

static const char *endpoint, *slow_endpoint, *tls_endpoint, *ca_file, *secret_id, *secret_key,
    *dir;
static uint64_t seed;

/* ---- helpers ---------------------------------------------------------------------------- */

/* Writes `size` pseudo-random bytes (xorshift64 from `salt` and this run's seed) to dir/name,
 * returns the path (to free). Each salt gives content no other test or run uses. */
static char *make_file(const char *name, uint64_t size, uint64_t salt) {
    size_t len = strlen(dir) + strlen(name) + 2;
    char *path = malloc(len);
    if (path == NULL) abort();
    snprintf(path, len, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        fprintf(stderr, "cannot create %s: %s\n", path, strerror(errno));
        abort();
    }
    uint64_t x = seed ^ (salt * UINT64_C(0x9E3779B97F4A7C15)) ^ UINT64_C(0x2545F4914F6CDD1D);
    if (x == 0) x = 1;
    unsigned char buf[65536];
    uint64_t left = size;
    while (left > 0) {
        size_t n = left < sizeof buf ? (size_t)left : sizeof buf;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[i] = (unsigned char)(x >> 24);
        }
        if (fwrite(buf, 1, n, f) != n) abort();
        left -= n;
    }
    if (fclose(f) != 0) abort();
    return path;
}

/* A client for the emulator at `url`: 512 KiB parts, `concurrency` parts at once, no pacing. */
static vod_client *new_client(const char *url, const char *key, uint32_t concurrency) {
    vod_client *c = NULL;
    CHECK_OK(vod_client_new(secret_id, key, url, &c));
    if (c == NULL) return NULL;
    CHECK_OK(vod_client_set_part_size(c, PART));
    CHECK_OK(vod_client_set_concurrency(c, concurrency));
    CHECK_OK(vod_client_set_rate_limiting(c, false));
    CHECK_OK(vod_client_set_max_attempts(c, 3));
    return c;
}

/* Records what a progress callback saw. Calls are serialised by the library. */
typedef struct {
    uint64_t first, last, total;
    size_t calls;
    int decreased, total_changed, wrong_thread;
    uint64_t abort_at; /* non-zero: return 1 once bytes_done >= abort_at */
    int check_thread;
    pthread_t thread;
} progress_rec;

static int32_t on_progress(void *user_data, uint64_t done, uint64_t total) {
    progress_rec *p = user_data;
    if (p->calls == 0) {
        p->first = done;
        p->total = total;
    } else {
        if (done < p->last) p->decreased = 1;
        if (total != p->total) p->total_changed = 1;
    }
    if (p->check_thread && !pthread_equal(pthread_self(), p->thread)) p->wrong_thread = 1;
    p->last = done;
    p->calls++;
    return (p->abort_at != 0 && done >= p->abort_at) ? 1 : 0;
}

static void check_result(const vod_upload_result *r, uint64_t size, int instant) {
    CHECK(r != NULL);
    if (r == NULL) return;
    const char *id = vod_upload_result_file_id(r);
    const char *url = vod_upload_result_url(r);
    CHECK(id != NULL && id[0] != '\0');
    CHECK(url != NULL && strncmp(url, "http", 4) == 0);
    CHECK(vod_upload_result_instant(r) == (instant != 0));
    CHECK(vod_upload_result_file_size(r) == size);
    CHECK(vod_upload_result_parts_total(r) == (size + PART - 1) / PART);
    CHECK(vod_upload_result_parts_uploaded(r) + vod_upload_result_parts_skipped(r) ==
          vod_upload_result_parts_total(r));
    CHECK(strlen(vod_upload_result_file_sha1(r)) == 40);
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_one_call_upload_with_progress(void) {
    const uint64_t size = 3 * PART + 12345; /* 4 parts */
    char *path = make_file("one_call.mp4", size, 1);
    vod_client *c = new_client(endpoint, secret_key, 4);
    vod_upload_options *o = NULL;
    CHECK_OK(vod_upload_options_new(&o));
    progress_rec hashing = {0}, up = {0};
    hashing.check_thread = 1;
    hashing.thread = pthread_self();
    CHECK_OK(vod_upload_options_set_hash_progress(o, on_progress, &hashing));

    vod_upload_result *r = NULL;
    CHECK_OK(vod_upload_file_with_options(c, path, o, on_progress, &up, &r));
    check_result(r, size, 0);
    CHECK(vod_upload_result_parts_uploaded(r) == 4);
    CHECK(vod_upload_result_bytes_sent(r) >= size);
    /* Upload progress: at least once per stored part, never decreasing, reaching the total. */
    CHECK(up.calls >= 4);
    CHECK(!up.decreased && !up.total_changed);
    CHECK(up.first == 0);
    CHECK(up.last == size && up.total == size);
    /* Hashing progress: on this thread, reaching the total. */
    CHECK(hashing.calls >= 1 && hashing.last == size && hashing.total == size);
    CHECK(!hashing.decreased && !hashing.wrong_thread);

    /* The same file again: the service has it, nothing is sent ("instant upload"). */
    progress_rec again = {0};
    vod_upload_result *r2 = NULL;
    CHECK_OK(vod_upload_file(c, path, on_progress, &again, &r2));
    check_result(r2, size, 1);
    CHECK(vod_upload_result_parts_skipped(r2) == 4);
    CHECK(again.calls >= 1 && again.last == size);
    if (r != NULL && r2 != NULL) {
        CHECK(strcmp(vod_upload_result_file_id(r), vod_upload_result_file_id(r2)) == 0);
    }
    vod_upload_result_free(r);
    vod_upload_result_free(r2);
    vod_upload_options_free(o);
    vod_client_free(c);
    free(path);
}

static void test_abort_from_callback_then_resume(void) {
    const uint64_t size = 4 * PART; /* 4 parts, sent one at a time */
    char *path = make_file("abort.mp4", size, 2);
    vod_client *c = new_client(endpoint, secret_key, 1);
    progress_rec stop = {0};
    stop.abort_at = 1; /* after the first stored part */
    vod_upload_result *r = SENTINEL;
    CHECK_STATUS(vod_upload_file(c, path, on_progress, &stop, &r), VOD_ERR_ABORTED);
    CHECK(r == SENTINEL); /* untouched on failure */
    CHECK(vod_last_status() == VOD_ERR_ABORTED);
    CHECK(!vod_last_can_retry());
    CHECK(stop.last >= PART && stop.last < size);

    /* The re-run resumes: the first report already counts what the service holds. */
    progress_rec resume = {0};
    r = NULL;
    CHECK_OK(vod_upload_file(c, path, on_progress, &resume, &r));
    check_result(r, size, 0);
    CHECK(resume.first >= PART);
    CHECK(!resume.decreased && resume.last == size);
    CHECK(vod_upload_result_parts_skipped(r) >= 1);
    CHECK(vod_upload_result_parts_uploaded(r) >= 1);
    vod_upload_result_free(r);
    vod_client_free(c);
    free(path);
}

static void test_abort_while_hashing(void) {
    char *path = make_file("abort_hashing.mp4", 2 * PART, 3);
    vod_client *c = new_client(endpoint, secret_key, 2);
    vod_upload_options *o = NULL;
    CHECK_OK(vod_upload_options_new(&o));
    progress_rec hashing = {0};
    hashing.abort_at = 1;
    CHECK_OK(vod_upload_options_set_hash_progress(o, on_progress, &hashing));
    vod_upload *u = SENTINEL;
    CHECK_STATUS(vod_upload_begin_with_options(c, path, o, &u), VOD_ERR_ABORTED);
    CHECK(u == SENTINEL);
    vod_upload_result *r = SENTINEL;
    CHECK_STATUS(vod_upload_file_with_options(c, path, o, NULL, NULL, &r), VOD_ERR_ABORTED);
    CHECK(r == SENTINEL);
    vod_upload_options_free(o);
    vod_client_free(c);
    free(path);
}

static void test_step_by_step_with_resume(void) {
    const uint64_t size = 3 * PART + 1000; /* 4 parts */
    char *path = make_file("steps.mp4", size, 4);
    vod_client *c = new_client(endpoint, secret_key, 4);
    vod_upload *u = NULL;
    CHECK_OK(vod_upload_begin(c, path, &u));
    if (u == NULL) goto out;
    CHECK(vod_upload_part_count(u) == 4);
    CHECK(vod_upload_part_size(u) == PART);
    CHECK(vod_upload_bytes_total(u) == size);
    CHECK(vod_upload_bytes_done(u) == 0);
    CHECK(!vod_upload_is_instant(u));
    for (size_t i = 0; i < 4; i++) CHECK(vod_upload_part_needed(u, i));
    CHECK(!vod_upload_part_needed(u, 4));

    CHECK_OK(vod_upload_part(u, 0));
    CHECK_OK(vod_upload_part(u, 2));
    CHECK(!vod_upload_part_needed(u, 0) && !vod_upload_part_needed(u, 2));
    CHECK(vod_upload_part_needed(u, 1) && vod_upload_part_needed(u, 3));
    CHECK(vod_upload_bytes_done(u) == 2 * PART);
    CHECK_OK(vod_upload_part(u, 0)); /* not needed any more: nothing to do */
    CHECK_STATUS(vod_upload_part(u, 99), VOD_ERR_INVALID_INPUT);
    CHECK_LAST_ERROR_HAS("out of range");
    vod_upload_result *r = SENTINEL;
    CHECK_STATUS(vod_upload_finish(u, &r), VOD_ERR_INVALID_INPUT);
    CHECK_LAST_ERROR_HAS("still needed");
    CHECK(r == SENTINEL);
    vod_upload_free(u); /* as if the process stopped here */

    /* Begin again: the service holds parts 0 and 2, so only 1 and 3 are needed. */
    u = NULL;
    CHECK_OK(vod_upload_begin(c, path, &u));
    if (u == NULL) goto out;
    CHECK(!vod_upload_part_needed(u, 0) && !vod_upload_part_needed(u, 2));
    CHECK(vod_upload_part_needed(u, 1) && vod_upload_part_needed(u, 3));
    CHECK(vod_upload_bytes_done(u) == 2 * PART);
    size_t sent = 0;
    for (size_t i = 0; i < vod_upload_part_count(u); i++) {
        if (vod_upload_part_needed(u, i)) {
            CHECK_OK(vod_upload_part(u, i));
            sent++;
        }
    }
    CHECK(sent == 2);
    CHECK(vod_upload_bytes_done(u) == size);
    CHECK_STATUS(vod_upload_finish(u, NULL), VOD_ERR_INVALID_ARGUMENT);
    r = NULL;
    CHECK_OK(vod_upload_finish(u, &r));
    check_result(r, size, 0);
    CHECK(vod_upload_result_parts_skipped(r) == 2 && vod_upload_result_parts_uploaded(r) == 2);
    /* Finishing again gives the same result. */
    vod_upload_result *r2 = NULL;
    CHECK_OK(vod_upload_finish(u, &r2));
    if (r != NULL && r2 != NULL) {
        CHECK(strcmp(vod_upload_result_file_id(r), vod_upload_result_file_id(r2)) == 0);
    }
    vod_upload_result_free(r);
    vod_upload_result_free(r2);
    vod_upload_free(u);

    /* A third time: the service has the whole file. */
    u = NULL;
    CHECK_OK(vod_upload_begin(c, path, &u));
    if (u == NULL) goto out;
    CHECK(vod_upload_is_instant(u));
    for (size_t i = 0; i < 4; i++) CHECK(!vod_upload_part_needed(u, i));
    r = NULL;
    CHECK_OK(vod_upload_finish(u, &r));
    check_result(r, size, 1);
    vod_upload_result_free(r);
    vod_upload_free(u);
out:
    vod_client_free(c);
    free(path);
}

typedef struct {
    vod_upload *upload;
    size_t from, step;
    vod_status status;
} part_job;

static void *send_parts(void *arg) {
    part_job *j = arg;
    j->status = VOD_OK;
    for (size_t i = j->from; i < vod_upload_part_count(j->upload); i += j->step) {
        vod_status s = vod_upload_part(j->upload, i);
        if (s != VOD_OK) j->status = s;
    }
    return NULL;
}

static void test_step_parts_from_two_threads(void) {
    const uint64_t size = 5 * PART + 7;
    char *path = make_file("steps_threads.mp4", size, 5);
    vod_client *c = new_client(endpoint, secret_key, 1);
    vod_upload *u = NULL;
    CHECK_OK(vod_upload_begin(c, path, &u));
    /* The upload does not borrow the client. */
    vod_client_free(c);
    if (u != NULL) {
        part_job jobs[2] = {{u, 0, 2, VOD_OK}, {u, 1, 2, VOD_OK}};
        pthread_t t[2];
        for (int i = 0; i < 2; i++) CHECK(pthread_create(&t[i], NULL, send_parts, &jobs[i]) == 0);
        for (int i = 0; i < 2; i++) CHECK(pthread_join(t[i], NULL) == 0);
        CHECK(jobs[0].status == VOD_OK && jobs[1].status == VOD_OK);
        vod_upload_result *r = NULL;
        CHECK_OK(vod_upload_finish(u, &r));
        check_result(r, size, 0);
        vod_upload_result_free(r);
        vod_upload_free(u);
    }
    free(path);
}

static void test_cancel_step_upload(void) {
    char *path = make_file("cancel.mp4", 2 * PART, 6);
    vod_client *c = new_client(endpoint, secret_key, 1);
    vod_upload *u = NULL;
    CHECK_OK(vod_upload_begin(c, path, &u));
    if (u != NULL) {
        vod_upload_cancel(u);
        CHECK_STATUS(vod_upload_part(u, 0), VOD_ERR_ABORTED);
        CHECK(vod_upload_part_needed(u, 0));
        vod_upload_free(u);
    }
    vod_client_free(c);
    free(path);
}

static void test_file_changed_during_upload(void) {
    char *path = make_file("changing.mp4", 2 * PART, 7);
    vod_client *c = new_client(endpoint, secret_key, 1);
    vod_upload *u = NULL;
    CHECK_OK(vod_upload_begin(c, path, &u));
    if (u != NULL) {
        FILE *f = fopen(path, "ab");
        CHECK(f != NULL);
        if (f != NULL) {
            fputs("more", f);
            fclose(f);
        }
        CHECK_STATUS(vod_upload_part(u, 0), VOD_ERR_FILE_CHANGED);
        CHECK_LAST_ERROR_HAS("changed");
        vod_upload_free(u);
    }
    vod_client_free(c);
    free(path);
}

static void test_wrong_key(void) {
    char *path = make_file("wrong_key.mp4", 1000, 8);
    vod_client *c = new_client(endpoint, "not-the-right-key", 2);
    vod_upload_result *r = SENTINEL;
    CHECK_STATUS(vod_upload_file(c, path, NULL, NULL, &r), VOD_ERR_AUTH);
    CHECK(r == SENTINEL);
    CHECK(vod_last_status() == VOD_ERR_AUTH);
    CHECK(vod_last_server_code() == -10002);
    CHECK(!vod_last_can_retry());
    CHECK_LAST_ERROR_HAS("-10002");
    CHECK(strstr(vod_last_error(), "not-the-right-key") == NULL);
    vod_upload *u = SENTINEL;
    CHECK_STATUS(vod_upload_begin(c, path, &u), VOD_ERR_AUTH);
    CHECK(u == SENTINEL);
    CHECK(vod_last_server_code() == -10002);
    vod_client_free(c);
    free(path);
}

typedef struct {
    vod_client *client;
    char *path;
    uint64_t size;
    progress_rec progress;
    vod_status status;
    char file_id[128];
} thread_job;

static void *upload_in_thread(void *arg) {
    thread_job *j = arg;
    vod_upload_result *r = NULL;
    j->status = vod_upload_file(j->client, j->path, on_progress, &j->progress, &r);
    if (j->status == VOD_OK) {
        snprintf(j->file_id, sizeof j->file_id, "%s", vod_upload_result_file_id(r));
        if (vod_upload_result_file_size(r) != j->size) j->status = VOD_ERR_UNKNOWN;
        vod_upload_result_free(r);
    } else {
        fprintf(stderr, "    thread upload of %s: %s\n", j->path, vod_last_error());
    }
    return NULL;
}

static void test_four_threads_share_one_client(void) {
    vod_client *c = new_client(endpoint, secret_key, 2);
    thread_job jobs[4];
    pthread_t threads[4];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < 4; i++) {
        char name[32];
        snprintf(name, sizeof name, "thread%d.mp4", i);
        jobs[i].client = c;
        jobs[i].size = 2 * PART + 1000 * (uint64_t)(i + 1);
        jobs[i].path = make_file(name, jobs[i].size, 100 + (uint64_t)i);
    }
    for (int i = 0; i < 4; i++) {
        CHECK(pthread_create(&threads[i], NULL, upload_in_thread, &jobs[i]) == 0);
    }
    for (int i = 0; i < 4; i++) CHECK(pthread_join(threads[i], NULL) == 0);
    for (int i = 0; i < 4; i++) {
        CHECK_STATUS(jobs[i].status, VOD_OK);
        CHECK(jobs[i].file_id[0] != '\0');
        CHECK(jobs[i].progress.last == jobs[i].size && !jobs[i].progress.decreased);
        CHECK(jobs[i].progress.calls >= 3);
        for (int k = 0; k < i; k++) CHECK(strcmp(jobs[i].file_id, jobs[k].file_id) != 0);
        free(jobs[i].path);
    }
    vod_client_free(c);
}

static void test_non_utf8_path(void) {
    /* Paths are bytes on Linux: \xff\xfe is not UTF-8. */
    char *path = make_file("vid\xff\xfe name.mp4", PART + 1, 9);
    vod_client *c = new_client(endpoint, secret_key, 2);
    vod_upload_result *r = NULL;
    CHECK_OK(vod_upload_file(c, path, NULL, NULL, &r));
    check_result(r, PART + 1, 0);
    vod_upload_result_free(r);
    vod_upload *u = NULL;
    CHECK_OK(vod_upload_begin(c, path, &u));
    CHECK(u != NULL && vod_upload_is_instant(u));
    vod_upload_free(u);
    vod_client_free(c);
    free(path);
}

static void test_upload_options(void) {
    char *path = make_file("clip_without_extension", PART + 99, 10);
    vod_client *c = new_client(endpoint, secret_key, 2);
    vod_upload_result *r = SENTINEL;
    /* No extension and no type: refused before anything is sent. */
    CHECK_STATUS(vod_upload_file(c, path, NULL, NULL, &r), VOD_ERR_INVALID_INPUT);
    CHECK_LAST_ERROR_HAS("no extension");
    CHECK(r == SENTINEL);

    vod_upload_options *o = NULL;
    CHECK_OK(vod_upload_options_new(&o));
    CHECK_OK(vod_upload_options_set_name(o, "My holiday, day 1"));
    CHECK_OK(vod_upload_options_set_type(o, ".MP4"));
    CHECK_OK(vod_upload_options_add_tag(o, "holiday"));
    CHECK_OK(vod_upload_options_add_tag(o, "beach and sea"));
    CHECK_OK(vod_upload_options_set_class_id(o, 3));
    CHECK_OK(vod_upload_options_set_transcode(o, true));
    CHECK_OK(vod_upload_options_set_screenshot(o, true));
    CHECK_OK(vod_upload_options_set_watermark(o, true));
    r = NULL;
    CHECK_OK(vod_upload_file_with_options(c, path, o, NULL, NULL, &r));
    check_result(r, PART + 99, 0);
    vod_upload_result_free(r);

    /* Values the service refuses are caught when set, before anything is sent, and leave the
     * options as they were. */
    char *other = make_file("other.mp4", 100, 11);
    CHECK_STATUS(vod_upload_options_set_class_id(o, -5), VOD_ERR_INVALID_INPUT);
    CHECK_LAST_ERROR_HAS("class_id -5 is out of range");
    CHECK_STATUS(vod_upload_options_set_type(o, "m p 4"), VOD_ERR_INVALID_INPUT);
    CHECK_LAST_ERROR_HAS("the video type \"m p 4\" is not valid");
    r = NULL;
    CHECK_OK(vod_upload_file_with_options(c, other, o, NULL, NULL, &r));
    vod_upload_result_free(r);
    vod_upload_options_free(o);
    vod_client_free(c);
    free(path);
    free(other);
}

static void test_file_errors(void) {
    vod_client *c = new_client(endpoint, secret_key, 1);
    vod_upload_result *r = SENTINEL;
    vod_upload *u = SENTINEL;
    char missing[4096];
    snprintf(missing, sizeof missing, "%s/does-not-exist.mp4", dir);
    CHECK_STATUS(vod_upload_file(c, missing, NULL, NULL, &r), VOD_ERR_NOT_FOUND);
    CHECK_LAST_ERROR_HAS("does-not-exist.mp4");
    CHECK_STATUS(vod_upload_begin(c, missing, &u), VOD_ERR_NOT_FOUND);
    CHECK_STATUS(vod_upload_file(c, dir, NULL, NULL, &r), VOD_ERR_IO);
    CHECK_LAST_ERROR_HAS("directory");
    char *empty = make_file("empty.mp4", 0, 12);
    CHECK_STATUS(vod_upload_file(c, empty, NULL, NULL, &r), VOD_ERR_INVALID_INPUT);
    CHECK_LAST_ERROR_HAS("empty");
    if (geteuid() != 0) { /* root reads anything */
        char *secret = make_file("unreadable.mp4", 10, 13);
        CHECK(chmod(secret, 0) == 0);
        CHECK_STATUS(vod_upload_file(c, secret, NULL, NULL, &r), VOD_ERR_PERMISSION_DENIED);
        free(secret);
    }
    CHECK(r == SENTINEL && u == SENTINEL);
    vod_client_free(c);
    free(empty);
}

/* A local port with nothing listening. */
static int closed_port(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &len) != 0) {
        abort();
    }
    close(s);
    return ntohs(a.sin_port);
}

static void test_network_error(void) {
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v2/index.php", closed_port());
    char *path = make_file("network.mp4", 1000, 14);
    vod_client *c = new_client(url, secret_key, 1);
    CHECK_OK(vod_client_set_max_attempts(c, 1));
    vod_upload_result *r = SENTINEL;
    CHECK_STATUS(vod_upload_file(c, path, NULL, NULL, &r), VOD_ERR_NETWORK);
    CHECK(vod_last_can_retry());
    CHECK(vod_last_server_code() == 0);
    CHECK(r == SENTINEL);
    vod_client_free(c);
    free(path);
}

static void test_timeout(void) {
    char *path = make_file("timeout.mp4", 1000, 15);
    vod_client *c = new_client(slow_endpoint, secret_key, 1);
    CHECK_OK(vod_client_set_max_attempts(c, 1));
    CHECK_OK(vod_client_set_request_timeout_ms(c, 300));
    vod_upload_result *r = SENTINEL;
    CHECK_STATUS(vod_upload_file(c, path, NULL, NULL, &r), VOD_ERR_TIMEOUT);
    CHECK(vod_last_can_retry());
    CHECK(r == SENTINEL);
    vod_client_free(c);
    free(path);
}

static void test_tls_with_ca_file(void) {
    char *path = make_file("tls.mp4", PART + 5, 16);
    /* Without the test CA the self-signed certificate is refused. */
    vod_client *c = new_client(tls_endpoint, secret_key, 2);
    CHECK_OK(vod_client_set_max_attempts(c, 1));
    vod_upload_result *r = SENTINEL;
    CHECK_STATUS(vod_upload_file(c, path, NULL, NULL, &r), VOD_ERR_NETWORK);
    CHECK(r == SENTINEL);
    /* With it, the upload goes through, signed with HmacSHA256 for good measure. */
    CHECK_OK(vod_client_set_ca_file(c, ca_file));
    CHECK_OK(vod_client_set_signature_method(c, "HmacSHA256"));
    r = NULL;
    CHECK_OK(vod_upload_file(c, path, NULL, NULL, &r));
    check_result(r, PART + 5, 0);
    vod_upload_result_free(r);
    vod_client_free(c);
    free(path);
}

int main(void) {
    endpoint = harness_env("VOD_TEST_ENDPOINT");
    slow_endpoint = harness_env("VOD_TEST_SLOW_ENDPOINT");
    tls_endpoint = harness_env("VOD_TEST_TLS_ENDPOINT");
    ca_file = harness_env("VOD_TEST_CA_FILE");
    secret_id = harness_env("VOD_TEST_ID");
    secret_key = harness_env("VOD_TEST_KEY");
    dir = harness_env("VOD_TEST_DIR");
    seed = strtoull(harness_env("VOD_TEST_SEED"), NULL, 10);

    RUN_TEST(test_one_call_upload_with_progress);
    RUN_TEST(test_abort_from_callback_then_resume);
    RUN_TEST(test_abort_while_hashing);
    RUN_TEST(test_step_by_step_with_resume);
    RUN_TEST(test_step_parts_from_two_threads);
    RUN_TEST(test_cancel_step_upload);
    RUN_TEST(test_file_changed_during_upload);
    RUN_TEST(test_wrong_key);
    RUN_TEST(test_four_threads_share_one_client);
    RUN_TEST(test_non_utf8_path);
    RUN_TEST(test_upload_options);
    RUN_TEST(test_file_errors);
    RUN_TEST(test_network_error);
    RUN_TEST(test_timeout);
    RUN_TEST(test_tls_with_ca_file);
    return harness_finish("test_upload");
}
