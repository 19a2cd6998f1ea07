/* Tests of the event API of libvodupload ("Video Upload Completed"): vod_event_parse and
 * its accessors, the callback POSTed by the emulator to a receiver in this process, PullEvent /
 * ConfirmEvent through vod_events_pull / vod_events_confirm, events kept across an emulator
 * restart (SIGTERM and SIGKILL), and the errors.
 *
 * Each run starts its OWN emulators (a shared one would hold the other tests' events for the same
 * credential), from the binary tests/c/run.sh names:
 *   VOD_TEST_EMULATOR       the vodupload-emulator binary
 *   VOD_TEST_ID, VOD_TEST_KEY  the credential to give it
 *   VOD_TEST_DIR            an empty directory: test files, the emulator's --state, its output
 *   VOD_TEST_SEED           makes this run's file contents unique
 * The PIDs of the emulators it starts are appended to VOD_TEST_DIR/emulator.pids, so run.sh can
 * stop any left behind by a crash.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

extern char **environ;

#define SENTINEL ((void *)(uintptr_t)0x5e5e5e5e)

static const char *emulator_bin, *secret_id, *secret_key, *dir;
static uint64_t seed;

/* ---- helpers ---------------------------------------------------------------------------- */

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

static char *path_in_dir(const char *name) {
    size_t len = strlen(dir) + strlen(name) + 2;
    char *p = malloc(len);
    if (p == NULL) abort();
    snprintf(p, len, "%s/%s", dir, name);
    return p;
}

/* Writes `size` pseudo-random bytes, unique to this run and `salt`, to dir/name; returns the path
 * (to free). */
static char *make_file(const char *name, size_t size, uint64_t salt) {
    char *path = path_in_dir(name);
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        fprintf(stderr, "cannot create %s: %s\n", path, strerror(errno));
        abort();
    }
    uint64_t x = seed ^ (salt * UINT64_C(0x9E3779B97F4A7C15)) ^ UINT64_C(0x7F4A7C159E3779B9);
    if (x == 0) x = 1;
    for (size_t i = 0; i < size; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if (fputc((int)(x >> 24) & 0xff, f) == EOF) abort();
    }
    if (fclose(f) != 0) abort();
    return path;
}

/* strcmp that is false, not a crash, when a is NULL. */
static int str_eq(const char *a, const char *b) {
    return a != NULL && strcmp(a, b) == 0;
}

/* ---- the emulator, as a child process --------------------------------------------------- */

typedef struct {
    pid_t pid;
    char endpoint[128]; /* http://127.0.0.1:PORT/v2/index.php */
} emulator;

/* Stops the emulator with `sig` and reaps it. */
static void emulator_stop(emulator *e, int sig) {
    if (e->pid <= 0) return;
    kill(e->pid, sig);
    waitpid(e->pid, NULL, 0);
    e->pid = 0;
}

/* Starts `VOD_TEST_EMULATOR --listen 127.0.0.1:0 --credential ID:KEY --no-rate-limit --state
 * DIR/state [--notify-url URL]` with its stdout in DIR/emulator-N.out, and waits (up to 30 s)
 * for its "listening on http://..." line. Returns 0 on success. */
static int emulator_start(emulator *e, const char *notify_url) {
    static int n = 0;
    char out_name[64], err_name[64], credential[512];
    snprintf(out_name, sizeof out_name, "emulator-%d.out", ++n);
    snprintf(err_name, sizeof err_name, "emulator-%d.err", n);
    snprintf(credential, sizeof credential, "%s:%s", secret_id, secret_key);
    char *out_path = path_in_dir(out_name), *err_path = path_in_dir(err_name);
    char *state = path_in_dir("state");

    const char *argv[12];
    int a = 0;
    argv[a++] = emulator_bin;
    argv[a++] = "--listen";
    argv[a++] = "127.0.0.1:0";
    argv[a++] = "--credential";
    argv[a++] = credential;
    argv[a++] = "--no-rate-limit";
    argv[a++] = "--state";
    argv[a++] = state;
    if (notify_url != NULL) {
        argv[a++] = "--notify-url";
        argv[a++] = notify_url;
    }
    argv[a] = NULL;

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int rc = posix_spawn(&e->pid, emulator_bin, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    free(state);
    if (rc != 0) {
        fprintf(stderr, "    cannot start %s: %s\n", emulator_bin, strerror(rc));
        free(out_path);
        free(err_path);
        return -1;
    }
    char *pids = path_in_dir("emulator.pids");
    FILE *pf = fopen(pids, "a");
    if (pf != NULL) {
        fprintf(pf, "%ld\n", (long)e->pid);
        fclose(pf);
    }
    free(pids);

    int ok = -1;
    for (int i = 0; i < 300 && ok != 0; i++) {
        FILE *f = fopen(out_path, "r");
        char line[256];
        while (f != NULL && fgets(line, sizeof line, f) != NULL) {
            char url[100];
            if (sscanf(line, "listening on %99s", url) == 1) {
                snprintf(e->endpoint, sizeof e->endpoint, "%s/v2/index.php", url);
                ok = 0;
            }
        }
        if (f != NULL) fclose(f);
        if (ok != 0) {
            if (waitpid(e->pid, NULL, WNOHANG) == e->pid) {
                fprintf(stderr, "    the emulator exited at start (see %s)\n", err_path);
                e->pid = 0;
                break;
            }
            sleep_ms(100);
        }
    }
    if (ok != 0) {
        fprintf(stderr, "    the emulator did not start (see %s)\n", err_path);
        emulator_stop(e, SIGKILL);
    }
    free(out_path);
    free(err_path);
    return ok;
}

/* ---- a one-shot callback receiver ------------------------------------------------------- */

/* A TCP listener on 127.0.0.1:0; its port in *port. */
static int listen_local(int *port) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 8) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &len) != 0) {
        abort();
    }
    *port = ntohs(a.sin_port);
    return s;
}

typedef struct {
    char head[4096]; /* request line and headers, NUL-terminated */
    char *body;      /* Content-Length bytes (malloc'd, NUL-terminated) */
    size_t body_len;
} http_request;

/* Accepts one connection (waiting up to `timeout_ms`), reads one request, answers 200 with an
 * empty body, closes. Returns 0 on success. The emulator's POST waits in the backlog meanwhile:
 * one thread is enough. */
static int receive_one(int listener, int timeout_ms, http_request *req) {
    memset(req, 0, sizeof *req);
    struct pollfd p = {listener, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) != 1) {
        fprintf(stderr, "    no callback connection within %d ms\n", timeout_ms);
        return -1;
    }
    int c = accept(listener, NULL, NULL);
    if (c < 0) return -1;
    struct timeval tv = {10, 0};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

    char buf[65536];
    size_t have = 0;
    char *end = NULL;
    while (end == NULL && have < sizeof buf - 1) {
        ssize_t n = recv(c, buf + have, sizeof buf - 1 - have, 0);
        if (n <= 0) break;
        have += (size_t)n;
        buf[have] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    if (end == NULL || (size_t)(end - buf) >= sizeof req->head) {
        close(c);
        return -1;
    }
    size_t head_len = (size_t)(end - buf) + 2; /* keep the last header's CRLF */
    memcpy(req->head, buf, head_len);
    req->head[head_len] = '\0';

    size_t content_length = 0;
    for (char *h = strstr(req->head, "\r\n"); h != NULL; h = strstr(h + 2, "\r\n")) {
        if (strncasecmp(h + 2, "content-length:", 15) == 0) {
            content_length = strtoul(h + 17, NULL, 10);
        }
    }
    size_t start = (size_t)(end - buf) + 4;
    req->body = malloc(content_length + 1);
    if (req->body == NULL) abort();
    size_t got = have - start < content_length ? have - start : content_length;
    memcpy(req->body, buf + start, got);
    while (got < content_length) {
        ssize_t n = recv(c, req->body + got, content_length - got, 0);
        if (n <= 0) break;
        got += (size_t)n;
    }
    req->body[got] = '\0';
    req->body_len = got;
    static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    (void)send(c, answer, sizeof answer - 1, MSG_NOSIGNAL);
    close(c);
    return got == content_length ? 0 : -1;
}

/* Whether the headers hold `name: value` (case-insensitive name, value prefix). */
static int has_header(const char *head, const char *name, const char *value) {
    size_t nl = strlen(name);
    for (const char *h = strstr(head, "\r\n"); h != NULL; h = strstr(h + 2, "\r\n")) {
        if (strncasecmp(h + 2, name, nl) == 0 && h[2 + nl] == ':') {
            const char *v = h + 3 + nl;
            while (*v == ' ') v++;
            if (strncasecmp(v, value, strlen(value)) == 0) return 1;
        }
    }
    return 0;
}

/* ---- shared state of the server tests --------------------------------------------------- */

static emulator emu;          /* the dedicated emulator, with --notify-url */
static int listener = -1;     /* where it POSTs */
static char notify_url[128];
static char first_file_id[64]; /* the file uploaded by test_callback_arrives */

static vod_client *events_client(const char *key) {
    vod_client *c = NULL;
    CHECK_OK(vod_client_new(secret_id, key, emu.endpoint, &c));
    if (c == NULL) return NULL;
    CHECK_OK(vod_client_set_events_endpoint(c, emu.endpoint));
    CHECK_OK(vod_client_set_rate_limiting(c, false));
    CHECK_OK(vod_client_set_max_attempts(c, 2));
    return c;
}

/* Uploads a new file; its file id into id (size idlen). */
static int upload_new_file(vod_client *c, const char *name, uint64_t salt, char *id, size_t idlen) {
    char *path = make_file(name, 3000, salt);
    vod_upload_result *r = NULL;
    vod_status s = vod_upload_file(c, path, NULL, NULL, &r);
    CHECK_OK(s);
    free(path);
    if (s != VOD_OK) return -1;
    snprintf(id, idlen, "%s", vod_upload_result_file_id(r));
    vod_upload_result_free(r);
    return 0;
}

/* The received callback body parses into the event for `file_id`. */
static void check_callback(const http_request *req, const char *file_id) {
    char expected_line[160];
    snprintf(expected_line, sizeof expected_line, "POST /hook?token=t HTTP/1.");
    CHECK(strncmp(req->head, expected_line, strlen(expected_line)) == 0);
    if (strncmp(req->head, expected_line, strlen(expected_line)) != 0) {
        fprintf(stderr, "    request line: %.*s\n", (int)strcspn(req->head, "\r\n"), req->head);
    }
    CHECK(has_header(req->head, "Content-Type", "application/json"));
    vod_event *e = NULL;
    CHECK_OK(vod_event_parse(req->body, req->body_len, &e));
    if (e == NULL) return;
    CHECK(str_eq(vod_event_file_id(e), file_id));
    CHECK(str_eq(vod_event_event_type(e), "NewFileUpload"));
    CHECK(vod_event_is_new_file_upload(e));
    CHECK(str_eq(vod_event_source_type(e), "ServerUpload"));
    CHECK(str_eq(vod_event_version(e), "4.0"));
    CHECK(vod_event_file_url(e) != NULL && strncmp(vod_event_file_url(e), "http", 4) == 0);
    CHECK(vod_event_file_name(e) != NULL);
    CHECK(str_eq(vod_event_raw_json(e), req->body));
    vod_event_free(e);
}

/* Pulls and expects exactly one event, for `file_id`; copies its handle into handle. */
static void pull_one(vod_client *c, const char *file_id, char *handle, size_t handle_len) {
    vod_event_list *l = SENTINEL;
    CHECK_OK(vod_events_pull(c, &l));
    if (l == SENTINEL) return;
    CHECK(vod_event_list_count(l) == 1);
    if (vod_event_list_count(l) >= 1) {
        const char *h = vod_event_list_msg_handle(l, 0);
        const vod_event *e = vod_event_list_event(l, 0);
        CHECK(h != NULL && h[0] != '\0');
        CHECK(e != NULL);
        if (h != NULL && e != NULL) {
            CHECK(str_eq(vod_event_file_id(e), file_id));
            CHECK(vod_event_is_new_file_upload(e));
            CHECK(str_eq(vod_event_source_type(e), "ServerUpload"));
            snprintf(handle, handle_len, "%s", h);
        }
    }
    /* Out of range: NULL, recorded. */
    CHECK(vod_event_list_msg_handle(l, 1) == NULL);
    CHECK(vod_last_status() == VOD_ERR_INVALID_ARGUMENT);
    CHECK_LAST_ERROR_HAS("out of range");
    CHECK(vod_event_list_event(l, 99) == NULL);
    vod_event_list_free(l);
}

static size_t pull_count(vod_client *c) {
    vod_event_list *l = NULL;
    CHECK_OK(vod_events_pull(c, &l));
    size_t n = vod_event_list_count(l);
    vod_event_list_free(l);
    return n;
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_parse(void) {
    static const char good[] =
        "{\"version\":\"4.0\",\"eventType\":\"NewFileUpload\",\"data\":{\"fileId\":"
        "\"7031868222808505913\",\"fileUrl\":\"http://h/f0.mp4\",\"fileName\":\"holiday\","
        "\"sourceType\":\"ServerUpload\",\"sourceContext\":\"ctx\",\"transcodeTaskId\":\"t1\","
        "\"procedureTaskId\":\"p1\",\"future\":{\"x\":1}}}";
    vod_event *e = SENTINEL;
    /* Not NUL-terminated: only len bytes are read. */
    char *copy = malloc(sizeof good - 1);
    if (copy == NULL) abort();
    memcpy(copy, good, sizeof good - 1);
    CHECK_OK(vod_event_parse(copy, sizeof good - 1, &e));
    free(copy);
    CHECK(e != SENTINEL && e != NULL);
    if (e == SENTINEL || e == NULL) return;
    CHECK(str_eq(vod_event_event_type(e), "NewFileUpload"));
    CHECK(vod_event_is_new_file_upload(e));
    CHECK(str_eq(vod_event_version(e), "4.0"));
    CHECK(str_eq(vod_event_file_id(e), "7031868222808505913"));
    CHECK(str_eq(vod_event_file_url(e), "http://h/f0.mp4"));
    CHECK(str_eq(vod_event_file_name(e), "holiday"));
    CHECK(str_eq(vod_event_source_type(e), "ServerUpload"));
    CHECK(str_eq(vod_event_source_context(e), "ctx"));
    CHECK(str_eq(vod_event_transcode_task_id(e), "t1"));
    CHECK(str_eq(vod_event_procedure_task_id(e), "p1"));
    /* The unknown field is kept: raw_json is the input, byte for byte. */
    CHECK(str_eq(vod_event_raw_json(e), good));
    vod_event_free(e);

    /* A numeric fileId reads as its digits; an unknown type parses, absent fields are NULL. */
    static const char numeric[] = "{\"eventType\":\"NewFileUpload\",\"data\":{\"fileId\":123}}";
    e = NULL;
    CHECK_OK(vod_event_parse(numeric, strlen(numeric), &e));
    if (e != NULL) {
        CHECK(str_eq(vod_event_file_id(e), "123"));
        CHECK(vod_event_version(e) == NULL);
        CHECK(vod_event_file_url(e) == NULL);
        vod_event_free(e);
    }
    static const char other[] = "{\"eventType\":\"ProcedureStateChanged\",\"x\":[1,2]}";
    e = NULL;
    CHECK_OK(vod_event_parse(other, strlen(other), &e));
    if (e != NULL) {
        CHECK(str_eq(vod_event_event_type(e), "ProcedureStateChanged"));
        CHECK(!vod_event_is_new_file_upload(e));
        CHECK(vod_event_file_id(e) == NULL);
        CHECK(vod_event_source_type(e) == NULL);
        CHECK(str_eq(vod_event_raw_json(e), other));
        vod_event_free(e);
    }
    /* A field holding U+0000 cannot be a C string: NULL, and the event still parses. */
    static const char nul[] = "{\"eventType\":\"NewFileUpload\",\"data\":{\"fileId\":\"a\\u0000b\","
                              "\"fileName\":\"n\"}}";
    e = NULL;
    CHECK_OK(vod_event_parse(nul, strlen(nul), &e));
    if (e != NULL) {
        CHECK(vod_event_file_id(e) == NULL);
        CHECK(str_eq(vod_event_file_name(e), "n"));
        CHECK(strstr(vod_event_raw_json(e), "a\\u0000b") != NULL);
        vod_event_free(e);
    }
}

static void test_parse_malformed(void) {
    vod_event *e = SENTINEL;
    static const char cut[] = "{\"eventType\":";
    CHECK_STATUS(vod_event_parse(cut, strlen(cut), &e), VOD_ERR_INVALID_INPUT);
    CHECK_LAST_ERROR_HAS("not valid JSON");
    CHECK_LAST_ERROR_HAS("{\\\"eventType\\\":"); /* shows the start of the input */
    CHECK_STATUS(vod_event_parse("[]", 2, &e), VOD_ERR_INVALID_INPUT);
    CHECK_LAST_ERROR_HAS("not an object");
    static const char no_type[] = "{\"data\":{}}";
    CHECK_STATUS(vod_event_parse(no_type, strlen(no_type), &e), VOD_ERR_INVALID_INPUT);
    CHECK_LAST_ERROR_HAS("no \"eventType\"");
    static const char number_type[] = "{\"eventType\":5}";
    CHECK_STATUS(vod_event_parse(number_type, strlen(number_type), &e), VOD_ERR_INVALID_INPUT);
    CHECK_LAST_ERROR_HAS("not a string");
    CHECK_STATUS(vod_event_parse("{}", 0, &e), VOD_ERR_INVALID_INPUT); /* len 0: no JSON */
    CHECK_STATUS(vod_event_parse("\xff\xfe", 2, &e), VOD_ERR_INVALID_INPUT);
    CHECK_LAST_ERROR_HAS("UTF-8");
    /* The status is the library's, the message the thread's. */
    CHECK(vod_last_status() == VOD_ERR_INVALID_INPUT);
    CHECK(vod_last_server_code() == 0 && !vod_last_can_retry());
    /* Only len bytes count: a valid prefix of a longer buffer parses, a cut one does not. */
    static const char two[] = "{\"eventType\":\"A\"}garbage";
    CHECK_STATUS(vod_event_parse(two, strlen(two), &e), VOD_ERR_INVALID_INPUT);
    CHECK(e == SENTINEL);
    e = NULL;
    CHECK_OK(vod_event_parse(two, 17, &e));
    if (e != NULL) {
        CHECK(str_eq(vod_event_raw_json(e), "{\"eventType\":\"A\"}"));
        vod_event_free(e);
    }
}

static void test_callback_arrives(void) {
    CHECK(emu.pid > 0);
    if (emu.pid <= 0) return;
    vod_client *c = events_client(secret_key);
    if (c == NULL) return;
    if (upload_new_file(c, "callback.mp4", 1, first_file_id, sizeof first_file_id) == 0) {
        http_request req;
        CHECK(receive_one(listener, 20000, &req) == 0);
        check_callback(&req, first_file_id);
        free(req.body);
    }
    vod_client_free(c);
}

static void test_pull_until_confirmed(void) {
    CHECK(emu.pid > 0 && first_file_id[0] != '\0');
    if (emu.pid <= 0 || first_file_id[0] == '\0') return;
    vod_client *c = events_client(secret_key);
    if (c == NULL) return;
    char h1[256] = "", h2[256] = "";
    /* Pulled, not confirmed: the same event, with the same handle, every time. */
    pull_one(c, first_file_id, h1, sizeof h1);
    pull_one(c, first_file_id, h2, sizeof h2);
    CHECK(h1[0] != '\0' && strcmp(h1, h2) == 0);
    const char *handles[] = {h1};
    CHECK_OK(vod_events_confirm(c, handles, 1));
    CHECK(pull_count(c) == 0);
    /* Confirming again is harmless (the service ignores handles it no longer has). */
    CHECK_OK(vod_events_confirm(c, handles, 1));
    /* Nothing to confirm: nothing sent. */
    CHECK_OK(vod_events_confirm(c, NULL, 0));
    CHECK_OK(vod_events_confirm(c, handles, 0));
    vod_client_free(c);
}

static int closed_port(void) {
    int port;
    int s = listen_local(&port);
    close(s);
    return port;
}

static void test_errors(void) {
    CHECK(emu.pid > 0);
    if (emu.pid <= 0) return;
    /* A wrong key: the service refuses the PullEvent signature. */
    vod_client *bad = events_client("not-the-key");
    if (bad != NULL) {
        vod_event_list *l = SENTINEL;
        CHECK_STATUS(vod_events_pull(bad, &l), VOD_ERR_AUTH);
        CHECK(vod_last_server_code() == -10002);
        CHECK(!vod_last_can_retry());
        CHECK(strstr(vod_last_error(), "not-the-key") == NULL);
        CHECK(l == SENTINEL);
        const char *h[] = {"whatever"};
        CHECK_STATUS(vod_events_confirm(bad, h, 1), VOD_ERR_AUTH);
        vod_client_free(bad);
    }

    vod_client *c = events_client(secret_key);
    if (c == NULL) return;
    /* A bad events endpoint is refused, and the setting stays. */
    CHECK_STATUS(vod_client_set_events_endpoint(c, "ftp://x"), VOD_ERR_INVALID_INPUT);
    CHECK_LAST_ERROR_HAS("events endpoint");
    CHECK_STATUS(vod_client_set_events_endpoint(c, "http://h/\xff"), VOD_ERR_INVALID_INPUT);
    CHECK_LAST_ERROR_HAS("UTF-8");
    (void)pull_count(c);
    /* Bad handles: nothing is sent. */
    const char *with_null[] = {"a", NULL};
    CHECK_STATUS(vod_events_confirm(c, with_null, 2), VOD_ERR_INVALID_ARGUMENT);
    CHECK_LAST_ERROR_HAS("msg_handles[1] is NULL");
    const char *with_empty[] = {"a", ""};
    CHECK_STATUS(vod_events_confirm(c, with_empty, 2), VOD_ERR_INVALID_INPUT);
    CHECK_LAST_ERROR_HAS("empty");
    const char *not_utf8[] = {"\xff"};
    CHECK_STATUS(vod_events_confirm(c, not_utf8, 1), VOD_ERR_INVALID_INPUT);
    CHECK_STATUS(vod_events_confirm(c, NULL, 1), VOD_ERR_INVALID_ARGUMENT);

    /* Nothing listening: a network error, worth retrying later. */
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v2/index.php", closed_port());
    CHECK_OK(vod_client_set_events_endpoint(c, url));
    CHECK_OK(vod_client_set_max_attempts(c, 1));
    vod_event_list *l = SENTINEL;
    CHECK_STATUS(vod_events_pull(c, &l), VOD_ERR_NETWORK);
    CHECK(vod_last_can_retry());
    CHECK(l == SENTINEL);
    /* NULL restores the default (not contacted here). */
    CHECK_OK(vod_client_set_events_endpoint(c, NULL));
    vod_client_free(c);
}

static void test_restart_keeps_unconfirmed_events(void) {
    CHECK(emu.pid > 0);
    if (emu.pid <= 0) return;
    vod_client *c = events_client(secret_key);
    if (c == NULL) return;
    char file_id[64] = "";
    char before[256] = "", after[256] = "";
    if (upload_new_file(c, "restart.mp4", 2, file_id, sizeof file_id) != 0) {
        vod_client_free(c);
        return;
    }
    /* Take this file's callback too, so no POST is left waiting. */
    http_request req;
    CHECK(receive_one(listener, 20000, &req) == 0);
    check_callback(&req, file_id);
    free(req.body);
    pull_one(c, file_id, before, sizeof before);
    vod_client_free(c);

    /* SIGTERM, then SIGKILL: the same state and credential give back the unconfirmed event. */
    const int signals[] = {SIGTERM, SIGKILL};
    for (size_t i = 0; i < 2; i++) {
        emulator_stop(&emu, signals[i]);
        CHECK(emulator_start(&emu, NULL) == 0);
        if (emu.pid <= 0) return;
        c = events_client(secret_key); /* a new port: a new events endpoint */
        if (c == NULL) return;
        after[0] = '\0';
        pull_one(c, file_id, after, sizeof after);
        CHECK(before[0] != '\0' && strcmp(before, after) == 0);
        if (i == 1) {
            const char *handles[] = {after};
            CHECK_OK(vod_events_confirm(c, handles, 1));
            CHECK(pull_count(c) == 0);
        }
        vod_client_free(c);
    }
}

int main(void) {
    emulator_bin = harness_env("VOD_TEST_EMULATOR");
    secret_id = harness_env("VOD_TEST_ID");
    secret_key = harness_env("VOD_TEST_KEY");
    dir = harness_env("VOD_TEST_DIR");
    seed = strtoull(harness_env("VOD_TEST_SEED"), NULL, 10);

    RUN_TEST(test_parse);
    RUN_TEST(test_parse_malformed);

    /* The receiver listens before the emulator starts, so no POST can be refused. */
    int port = 0;
    listener = listen_local(&port);
    snprintf(notify_url, sizeof notify_url, "http://127.0.0.1:%d/hook?token=t", port);
    if (emulator_start(&emu, notify_url) != 0) {
        fprintf(stderr, "    the server tests cannot run without the emulator\n");
    }
    RUN_TEST(test_callback_arrives);
    RUN_TEST(test_pull_until_confirmed);
    RUN_TEST(test_errors);
    RUN_TEST(test_restart_keeps_unconfirmed_events);
    emulator_stop(&emu, SIGTERM);
    close(listener);
    return harness_finish("test_events");
}
