/* The bad-input table (docs/reliability.md), C column: each hostile or mistaken input gives one status
 * and a message that says what is wrong. One test per row, in the table's order, each asserting
 * the vod_status and a phrase of vod_last_error() (and that the out-parameter stays untouched).
 *
 * Built and run by tests/c/run.sh, which starts an emulator and sets:
 *   VOD_TEST_ENDPOINT       http://127.0.0.1:PORT/v2/index.php (an emulator without rate limits)
 *   VOD_TEST_ID, VOD_TEST_KEY  the credential it accepts
 *   VOD_TEST_DIR            an empty directory for the test files
 *   VOD_TEST_SEED           makes this run's file contents unique (the emulator keeps files)
 * The protocol rows talk to a fake upload host this program runs on a thread (127.0.0.1, a
 * random port), which answers every request with the same canned bytes.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* setgroups */

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define SENTINEL ((void *)(uintptr_t)0x5e5e5e5e)
#define NOBODY 65534

static const char *endpoint, *secret_id, *secret_key, *dir;
static uint64_t seed;

/* ---- helpers ---------------------------------------------------------------------------- */

/* dir/name, to free. */
static char *path_in(const char *d, const char *name) {
    size_t len = strlen(d) + strlen(name) + 2;
    char *path = malloc(len);
    if (path == NULL) abort();
    snprintf(path, len, "%s/%s", d, name);
    return path;
}

/* Writes `size` bytes unique to this run and `salt` to d/name; returns the path (to free). */
static char *make_file_in(const char *d, const char *name, size_t size, uint64_t salt) {
    char *path = path_in(d, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        fprintf(stderr, "cannot create %s: %s\n", path, strerror(errno));
        abort();
    }
    uint64_t x = (seed ^ (salt * UINT64_C(0x9E3779B97F4A7C15))) | 1;
    for (size_t i = 0; i < size; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if (fputc((int)(x >> 24) & 0xff, f) == EOF) abort();
    }
    if (fclose(f) != 0) abort();
    return path;
}

static char *make_file(const char *name, size_t size, uint64_t salt) {
    return make_file_in(dir, name, size, salt);
}

/* A client for `url` with the given key: 2 tries per request (the network rows stay fast), no
 * pacing. NULL (and a failed check) if the client cannot be made. */
static vod_client *new_client(const char *url, const char *key) {
    vod_client *c = NULL;
    CHECK_OK(vod_client_new(secret_id, key, url, &c));
    if (c == NULL) return NULL;
    CHECK_OK(vod_client_set_max_attempts(c, 2));
    CHECK_OK(vod_client_set_rate_limiting(c, false));
    return c;
}

/* The name of a status, as the header spells it. */
static const char *status_name(vod_status s) {
    switch (s) {
        case VOD_OK: return "VOD_OK";
        case VOD_ERR_INVALID_ARGUMENT: return "VOD_ERR_INVALID_ARGUMENT";
        case VOD_ERR_INVALID_INPUT: return "VOD_ERR_INVALID_INPUT";
        case VOD_ERR_IO: return "VOD_ERR_IO";
        case VOD_ERR_NOT_FOUND: return "VOD_ERR_NOT_FOUND";
        case VOD_ERR_PERMISSION_DENIED: return "VOD_ERR_PERMISSION_DENIED";
        case VOD_ERR_NETWORK: return "VOD_ERR_NETWORK";
        case VOD_ERR_TIMEOUT: return "VOD_ERR_TIMEOUT";
        case VOD_ERR_PROTOCOL: return "VOD_ERR_PROTOCOL";
        case VOD_ERR_AUTH: return "VOD_ERR_AUTH";
        case VOD_ERR_SERVER: return "VOD_ERR_SERVER";
        default: return vod_strerror(s);
    }
}

/* Checks `expr` fails with `expected` and a message containing `phrase`, and shows both (the
 * output is the C column of the table). */
#define CHECK_FAILS(expr, expected, phrase)                                                 \
    do {                                                                                    \
        CHECK_STATUS(expr, expected);                                                       \
        CHECK(vod_last_status() == (vod_status)(expected));                                 \
        CHECK_LAST_ERROR_HAS(phrase);                                                       \
        printf("     %s: %s\n", status_name(vod_last_status()), vod_last_error());          \
    } while (0)

/* Uploads `path` with `options` (may be NULL) and checks it fails with `expected` and a message
 * containing `phrase`, leaving the result untouched. */
#define CHECK_UPLOAD_FAILS(c, path, options, expected, phrase)                              \
    do {                                                                                    \
        vod_upload_result *r_ = SENTINEL;                                                   \
        CHECK_FAILS(vod_upload_file_with_options((c), (path), (options), NULL, NULL, &r_),  \
                    expected, phrase);                                                      \
        CHECK(r_ == SENTINEL);                                                              \
        if (r_ != SENTINEL) vod_upload_result_free(r_);                                     \
    } while (0)

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

/* ---- a fake upload host ----------------------------------------------------------------- */

/* Answers every request on 127.0.0.1:port with `response` (then closes the connection), one
 * connection at a time, until stopped. Sockets time out after 5 s, so nothing can hang. */
typedef struct {
    int listener, port;
    char *response;
    size_t response_len;
    volatile int stop;
    int requests;
    pthread_t thread;
    char url[96];
} fake_host;

static void set_timeouts(int s) {
    struct timeval tv = {5, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* Reads one request (headers, then Content-Length bytes of body); 0 on success. */
static int read_request(int s) {
    char buf[8192];
    size_t have = 0;
    char *end = NULL;
    while (end == NULL) {
        if (have == sizeof buf - 1) return -1;
        ssize_t n = recv(s, buf + have, sizeof buf - 1 - have, 0);
        if (n <= 0) return -1;
        have += (size_t)n;
        buf[have] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    size_t body_have = have - (size_t)(end + 4 - buf);
    size_t length = 0;
    for (char *line = buf; line < end; line = strstr(line, "\r\n") + 2) {
        if (strncasecmp(line, "content-length:", 15) == 0) {
            length = (size_t)strtoull(line + 15, NULL, 10);
        }
    }
    while (body_have < length) {
        char sink[65536];
        size_t want = length - body_have < sizeof sink ? length - body_have : sizeof sink;
        ssize_t n = recv(s, sink, want, 0);
        if (n <= 0) return -1;
        body_have += (size_t)n;
    }
    return 0;
}

static void *fake_host_run(void *arg) {
    fake_host *h = arg;
    while (!h->stop) {
        struct pollfd p = {h->listener, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        int s = accept(h->listener, NULL, NULL);
        if (s < 0) continue;
        set_timeouts(s);
        if (read_request(s) == 0) {
            h->requests++;
            size_t sent = 0;
            while (sent < h->response_len) {
                /* MSG_NOSIGNAL: a client that stops reading (the huge body) must not SIGPIPE us. */
                ssize_t n = send(s, h->response + sent, h->response_len - sent, MSG_NOSIGNAL);
                if (n <= 0) break;
                sent += (size_t)n;
            }
        }
        close(s);
    }
    return NULL;
}

/* Starts a host answering HTTP 200 with `body` (`body_len` bytes) as text/html. */
static void fake_host_start(fake_host *h, const char *body, size_t body_len) {
    memset(h, 0, sizeof *h);
    char head[256];
    int head_len = snprintf(head, sizeof head,
                            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %zu\r\n"
                            "Connection: close\r\n\r\n",
                            body_len);
    h->response_len = (size_t)head_len + body_len;
    h->response = malloc(h->response_len);
    if (h->response == NULL) abort();
    memcpy(h->response, head, (size_t)head_len);
    memcpy(h->response + head_len, body, body_len);

    h->listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (h->listener < 0 || bind(h->listener, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(h->listener, 16) != 0 ||
        getsockname(h->listener, (struct sockaddr *)&a, &len) != 0) {
        abort();
    }
    h->port = ntohs(a.sin_port);
    snprintf(h->url, sizeof h->url, "http://127.0.0.1:%d/v2/index.php", h->port);
    if (pthread_create(&h->thread, NULL, fake_host_run, h) != 0) abort();
}

static void fake_host_stop(fake_host *h) {
    h->stop = 1;
    pthread_join(h->thread, NULL);
    close(h->listener);
    free(h->response);
}

/* Uploads a small file to a fake host answering `body`: the upload fails with `expected` and
 * `phrase`, after at least one request reached the host. */
static void check_against_fake_host(const char *body, size_t body_len, vod_status expected,
                                    const char *phrase, uint64_t salt) {
    fake_host h;
    fake_host_start(&h, body, body_len);
    char *path = make_file("fake-host.mp4", 3000, salt);
    vod_client *c = new_client(h.url, secret_key);
    if (c != NULL) CHECK_UPLOAD_FAILS(c, path, NULL, expected, phrase);
    vod_client_free(c);
    fake_host_stop(&h);
    CHECK(h.requests >= 1);
    free(path);
}

/* ---- the rows --------------------------------------------------------------------------- */

static void test_missing_file(void) {
    char *path = path_in(dir, "nope.mp4");
    vod_client *c = new_client(endpoint, secret_key);
    CHECK_UPLOAD_FAILS(c, path, NULL, VOD_ERR_NOT_FOUND, "no such file");
    CHECK_LAST_ERROR_HAS("nope.mp4");
    vod_client_free(c);
    free(path);
}

/* Root reads any file whatever its mode, so as root the upload runs in a forked child that
 * dropped to nobody (65534); the file's directory is open to all, so only the file's own mode
 * stands in the way. If the child cannot drop its privileges (no CAP_SETUID, nobody unmapped in
 * a user namespace), the row is skipped with the reason, never counted as passed. It runs first,
 * before this process has called the library (so the child inherits no library thread). */
static const char *skip_reason;

static void test_unreadable_file(void) {
    char tmpl[] = "/tmp/vodupload-unreadable-XXXXXX";
    if (mkdtemp(tmpl) == NULL) abort();
    CHECK(chmod(tmpl, 0755) == 0);
    char *path = make_file_in(tmpl, "secret.mp4", 100, 1);
    CHECK(chmod(path, 0) == 0);

    if (geteuid() != 0) {
        vod_client *c = new_client(endpoint, secret_key);
        CHECK_UPLOAD_FAILS(c, path, NULL, VOD_ERR_PERMISSION_DENIED, "permission denied");
        vod_client_free(c);
    } else {
        int fds[2];
        CHECK(pipe(fds) == 0);
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            if (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0) _exit(77);
            if (access(path, R_OK) == 0) _exit(78); /* still readable: it would prove nothing */
            vod_client *c = NULL;
            vod_status s = vod_client_new(secret_id, secret_key, endpoint, &c);
            if (s == VOD_OK) {
                vod_upload_result *r = SENTINEL;
                s = vod_upload_file(c, path, NULL, NULL, &r);
                if (r != SENTINEL) s = VOD_ERR_UNKNOWN;
            }
            char msg[2048];
            int n = snprintf(msg, sizeof msg, "%u %s", (unsigned)s, vod_last_error());
            if (n > 0 && write(fds[1], msg, strlen(msg)) < 0) _exit(79);
            _exit(0);
        }
        close(fds[1]);
        char msg[2048] = {0};
        size_t have = 0;
        ssize_t n;
        while (have < sizeof msg - 1 && (n = read(fds[0], msg + have, sizeof msg - 1 - have)) > 0) {
            have += (size_t)n;
        }
        close(fds[0]);
        int wstatus = 0;
        CHECK(waitpid(pid, &wstatus, 0) == pid);
        if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 77) {
            skip_reason = "running as root, and setuid(65534) fails here, so no process of this "
                          "test can be refused a file";
        } else if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 78) {
            fprintf(stderr, "    as nobody the file is still readable: this proves nothing\n");
            harness_current_failed = 1;
        } else {
            CHECK(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
            unsigned status = (unsigned)strtoul(msg, NULL, 10);
            const char *text = strchr(msg, ' ');
            printf("     as nobody: %s: %s\n", status_name((vod_status)status),
                   text ? text + 1 : "");
            if (status != VOD_ERR_PERMISSION_DENIED || strstr(msg, "permission denied") == NULL) {
                fprintf(stderr, "    as nobody: status and message \"%s\", expected %u and "
                        "\"permission denied\"\n", msg, (unsigned)VOD_ERR_PERMISSION_DENIED);
                harness_current_failed = 1;
            }
        }
    }
    chmod(path, 0600);
    unlink(path);
    rmdir(tmpl);
    free(path);
}

static void test_empty_file(void) {
    char *path = make_file("empty.mp4", 0, 2);
    vod_client *c = new_client(endpoint, secret_key);
    CHECK_UPLOAD_FAILS(c, path, NULL, VOD_ERR_INVALID_INPUT, "the file is empty");
    vod_client_free(c);
    free(path);
}

static void test_directory(void) {
    vod_client *c = new_client(endpoint, secret_key);
    CHECK_UPLOAD_FAILS(c, dir, NULL, VOD_ERR_IO, "is a directory");
    vod_client_free(c);
}

static void test_fifo(void) {
    char *path = path_in(dir, "pipe.mp4");
    CHECK(mkfifo(path, 0600) == 0);
    vod_client *c = new_client(endpoint, secret_key);
    CHECK_UPLOAD_FAILS(c, path, NULL, VOD_ERR_INVALID_INPUT, "not a regular file");
    vod_client_free(c);
    free(path);
}

static void test_non_utf8_path_uploads(void) {
    char *path = make_file("clip-\xff\xfe.mp4", 5000, 3);
    vod_client *c = new_client(endpoint, secret_key);
    vod_upload_result *r = NULL;
    CHECK_OK(vod_upload_file(c, path, NULL, NULL, &r));
    CHECK(r != NULL && vod_upload_result_parts_total(r) == 1);
    CHECK(r != NULL && vod_upload_result_file_size(r) == 5000);
    vod_upload_result_free(r);
    vod_client_free(c);
    free(path);
}

static void test_no_extension_no_type(void) {
    char *path = make_file("noext", 100, 4);
    vod_client *c = new_client(endpoint, secret_key);
    CHECK_UPLOAD_FAILS(c, path, NULL, VOD_ERR_INVALID_INPUT, "no extension");
    vod_client_free(c);
    free(path);
}

static void test_name_over_40_bytes(void) {
    vod_upload_options *o = NULL;
    CHECK_OK(vod_upload_options_new(&o));
    char name[42];
    memset(name, 'x', 41);
    name[41] = '\0';
    CHECK_FAILS(vod_upload_options_set_name(o, name), VOD_ERR_INVALID_INPUT, "at most 40");
    CHECK_LAST_ERROR_HAS("41 bytes");
    /* 40 is fine. */
    name[40] = '\0';
    CHECK_OK(vod_upload_options_set_name(o, name));
    vod_upload_options_free(o);
}

static void test_name_with_a_forbidden_character(void) {
    vod_upload_options *o = NULL;
    CHECK_OK(vod_upload_options_new(&o));
    CHECK_FAILS(vod_upload_options_set_name(o, "a:b"), VOD_ERR_INVALID_INPUT, "contains ':'");
    const char *others[] = {"a\\b", "a/b", "a*b", "a?b", "a\"b", "a<b", "a>b"};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        CHECK_STATUS(vod_upload_options_set_name(o, others[i]), VOD_ERR_INVALID_INPUT);
        CHECK_LAST_ERROR_HAS("contains");
    }
    vod_upload_options_free(o);
}

static void test_name_of_only_spaces(void) {
    vod_upload_options *o = NULL;
    CHECK_OK(vod_upload_options_new(&o));
    CHECK_FAILS(vod_upload_options_set_name(o, "   "), VOD_ERR_INVALID_INPUT,
                "the video name \"   \" is empty or only spaces, which the service refuses; pass a name");
    vod_upload_options_free(o);
}

static void test_file_name_of_only_dots(void) {
    char *path = make_file("....mp4", 100, 12);
    vod_client *c = new_client(endpoint, secret_key);
    CHECK_UPLOAD_FAILS(c, path, NULL, VOD_ERR_INVALID_INPUT,
                       "the video name \"...\" is only dots, which the service refuses (it reads as a path); pass a name");
    CHECK_LAST_ERROR_HAS("cannot name the video after");
    vod_client_free(c);
    free(path);
}

static void test_bad_timeouts(void) {
    vod_client *c = new_client(endpoint, secret_key);
    const char *rule = "request_timeout must be more than 0 and at most 86400 seconds, not ";
    char want[128];
    CHECK_FAILS(vod_client_set_request_timeout_ms(c, 0), VOD_ERR_INVALID_INPUT, rule);
    CHECK_LAST_ERROR_HAS("not 0");
    /* A negative value has no C type: the text setter takes it, with the same rule. */
    CHECK_FAILS(vod_client_set_option(c, "request_timeout", "-1"), VOD_ERR_INVALID_INPUT, rule);
    CHECK_LAST_ERROR_HAS("not -1");
    CHECK_FAILS(vod_client_set_request_timeout_ms(c, UINT64_C(1000000000000)), VOD_ERR_INVALID_INPUT, rule);
    snprintf(want, sizeof want, "%s1000000000", rule);
    CHECK_LAST_ERROR_HAS(want);
    CHECK_FAILS(vod_client_set_connect_timeout_ms(c, 0), VOD_ERR_INVALID_INPUT,
                "connect_timeout must be more than 0 and at most 86400 seconds, not 0");
    vod_client_free(c);
}

static void test_bad_attempts(void) {
    vod_client *c = new_client(endpoint, secret_key);
    CHECK_FAILS(vod_client_set_max_attempts(c, 0), VOD_ERR_INVALID_INPUT,
                "max_attempts 0 is out of range: use 1 to 100 (1 means no retries)");
    CHECK_FAILS(vod_client_set_max_attempts(c, 1000), VOD_ERR_INVALID_INPUT,
                "max_attempts 1000 is out of range: use 1 to 100 (1 means no retries)");
    vod_client_free(c);
}

static void test_concurrency_65(void) {
    vod_client *c = new_client(endpoint, secret_key);
    CHECK_FAILS(vod_client_set_concurrency(c, 65), VOD_ERR_INVALID_INPUT,
                "concurrency 65 is out of range: use 1 to 64");
    vod_client_free(c);
}

static void test_negative_class_id(void) {
    vod_upload_options *o = NULL;
    CHECK_OK(vod_upload_options_new(&o));
    /* -1 means "none" in C; -2 is the first refused value. */
    CHECK_FAILS(vod_upload_options_set_class_id(o, -2), VOD_ERR_INVALID_INPUT,
                "class_id -2 is out of range: use the id of a category (0 or more), or none");
    vod_upload_options_free(o);
}

static void test_cache_dir_others_can_write(void) {
    char *cache = path_in(dir, "shared-cache");
    CHECK(mkdir(cache, 0700) == 0 && chmod(cache, 0777) == 0);
    vod_client *c = new_client(endpoint, secret_key);
    CHECK_FAILS(vod_client_set_fingerprint_cache(c, cache), VOD_ERR_INVALID_INPUT,
                "is writable by other users (mode 777): another user could plant fingerprints");
    CHECK_LAST_ERROR_HAS("chmod 700");
    vod_client_free(c);
    rmdir(cache);
    free(cache);
}

static void test_cache_dir_is_a_file(void) {
    char *file = make_file("not-a-dir", 10, 13);
    vod_client *c = new_client(endpoint, secret_key);
    CHECK_FAILS(vod_client_set_fingerprint_cache(c, file), VOD_ERR_INVALID_INPUT,
                "is not a directory; choose another path");
    vod_client_free(c);
    free(file);
}

static void test_malformed_proxy(void) {
    vod_client *c = new_client(endpoint, secret_key);
    CHECK_FAILS(vod_client_set_proxy(c, "::not a url"), VOD_ERR_INVALID_INPUT,
                "proxy \"::not a url\" is not usable");
    vod_client_free(c);
}

static void test_bad_part_size(void) {
    vod_client *c = new_client(endpoint, secret_key);
    CHECK_FAILS(vod_client_set_part_size(c, 1000), VOD_ERR_INVALID_INPUT, "part size 1000");
    CHECK_LAST_ERROR_HAS("524288");
    vod_client_free(c);
}

static void test_zero_concurrency(void) {
    vod_client *c = new_client(endpoint, secret_key);
    CHECK_FAILS(vod_client_set_concurrency(c, 0), VOD_ERR_INVALID_INPUT,
                "concurrency 0 is out of range");
    vod_client_free(c);
}

static void test_empty_secret_key(void) {
    vod_client *c = SENTINEL;
    CHECK_FAILS(vod_client_new(secret_id, "", endpoint, &c), VOD_ERR_INVALID_INPUT,
                "SecretKey is empty");
    CHECK(c == SENTINEL);
}

static void test_secret_key_with_a_newline(void) {
    size_t len = strlen(secret_key) + 2;
    char *key = malloc(len);
    if (key == NULL) abort();
    snprintf(key, len, "%s\n", secret_key);
    vod_client *c = SENTINEL;
    CHECK_FAILS(vod_client_new(secret_id, key, endpoint, &c), VOD_ERR_INVALID_INPUT, "whitespace");
    CHECK(strstr(vod_last_error(), secret_key) == NULL);
    CHECK(c == SENTINEL);
    free(key);
}

static void test_no_credentials(void) {
    CHECK(unsetenv("TENCENTCLOUD_SECRET_ID") == 0);
    CHECK(unsetenv("TENCENTCLOUD_SECRET_KEY") == 0);
    vod_client *c = SENTINEL;
    CHECK_FAILS(vod_client_new_from_env(endpoint, &c), VOD_ERR_INVALID_INPUT, "no credentials");
    CHECK_LAST_ERROR_HAS("TENCENTCLOUD_SECRET_ID");
    CHECK(c == SENTINEL);
}

static void test_wrong_secret_key(void) {
    char *path = make_file("wrong-key.mp4", 3000, 5);
    vod_client *c = new_client(endpoint, "wrong");
    CHECK_UPLOAD_FAILS(c, path, NULL, VOD_ERR_AUTH, "-10002");
    CHECK(vod_last_server_code() == -10002);
    CHECK(!vod_last_can_retry());
    vod_client_free(c);
    free(path);
}

static void test_endpoint_not_a_url(void) {
    vod_client *c = SENTINEL;
    CHECK_FAILS(vod_client_new(secret_id, secret_key, "vod2 dot qcloud", &c), VOD_ERR_INVALID_INPUT,
                "not a usable URL");
    CHECK(c == SENTINEL);
}

static void test_unreachable_endpoint(void) {
    char url[96];
    int port = closed_port();
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v2/index.php", port);
    char *path = make_file("unreachable.mp4", 3000, 6);
    vod_client *c = new_client(url, secret_key);
    CHECK_UPLOAD_FAILS(c, path, NULL, VOD_ERR_NETWORK, "cannot connect");
    char where[32];
    snprintf(where, sizeof where, "127.0.0.1:%d", port);
    CHECK_LAST_ERROR_HAS(where);
    CHECK(vod_last_can_retry());
    vod_client_free(c);
    free(path);
}

static void test_server_answering_html(void) {
    const char body[] = "<html><body>Welcome to nginx!</body></html>";
    check_against_fake_host(body, sizeof body - 1, VOD_ERR_PROTOCOL, "not JSON", 7);
}

static void test_json_without_code(void) {
    const char body[] = "{\"message\":\"hello\"}";
    check_against_fake_host(body, sizeof body - 1, VOD_ERR_PROTOCOL, "no numeric \"code\"", 8);
}

static void test_huge_response_body(void) {
    size_t len = (size_t)4 << 20;
    char *body = malloc(len);
    if (body == NULL) abort();
    memset(body, ' ', len);
    check_against_fake_host(body, len, VOD_ERR_PROTOCOL, "larger than", 9);
    free(body);
}

int main(void) {
    endpoint = harness_env("VOD_TEST_ENDPOINT");
    secret_id = harness_env("VOD_TEST_ID");
    secret_key = harness_env("VOD_TEST_KEY");
    dir = harness_env("VOD_TEST_DIR");
    seed = strtoull(harness_env("VOD_TEST_SEED"), NULL, 10);

    /* The table's rows, in its order (the unreadable file first: it may fork). */
    harness_current_failed = 0;
    test_unreadable_file();
    if (skip_reason != NULL && !harness_current_failed) {
        printf("skip test_unreadable_file: %s\n", skip_reason);
    } else {
        if (harness_current_failed) {
            harness_failed++;
            printf("FAIL test_unreadable_file\n");
        } else {
            harness_passed++;
            printf("ok   test_unreadable_file\n");
        }
    }
    fflush(stdout);
    RUN_TEST(test_missing_file);
    RUN_TEST(test_empty_file);
    RUN_TEST(test_directory);
    RUN_TEST(test_fifo);
    RUN_TEST(test_non_utf8_path_uploads);
    RUN_TEST(test_no_extension_no_type);
    RUN_TEST(test_name_over_40_bytes);
    RUN_TEST(test_name_with_a_forbidden_character);
    RUN_TEST(test_name_of_only_spaces);
    RUN_TEST(test_file_name_of_only_dots);
    RUN_TEST(test_bad_part_size);
    RUN_TEST(test_zero_concurrency);
    RUN_TEST(test_concurrency_65);
    RUN_TEST(test_bad_timeouts);
    RUN_TEST(test_bad_attempts);
    RUN_TEST(test_negative_class_id);
    RUN_TEST(test_cache_dir_others_can_write);
    RUN_TEST(test_cache_dir_is_a_file);
    RUN_TEST(test_malformed_proxy);
    RUN_TEST(test_empty_secret_key);
    RUN_TEST(test_secret_key_with_a_newline);
    RUN_TEST(test_no_credentials);
    RUN_TEST(test_wrong_secret_key);
    RUN_TEST(test_endpoint_not_a_url);
    RUN_TEST(test_unreachable_endpoint);
    RUN_TEST(test_server_answering_html);
    RUN_TEST(test_json_without_code);
    RUN_TEST(test_huge_response_body);
    return harness_finish("test_bad_input");
}
