// Tests of include/vodupload.hpp, the C++17 interface, against the emulator tests/c/run.sh starts:
// RAII and moves (no leak or double free under ASan and valgrind), exceptions carrying the
// library's status and the service's code, a throwing progress callback, the step-by-step API,
// events, and every setter reaching the core's rules.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include <vodupload.hpp>

#include "../c/harness.h"

namespace {

const char *endpoint, *secret_id, *secret_key, *dir;

std::string make_file(const std::string &name, std::size_t size, unsigned salt) {
    std::string path = std::string(dir) + "/" + name;
    std::ofstream f(path, std::ios::binary);
    std::mt19937_64 rng(std::strtoull(harness_env("VOD_TEST_SEED"), nullptr, 10) ^ salt);
    for (std::size_t i = 0; i < size; i += 8) {
        std::uint64_t v = rng();
        f.write(reinterpret_cast<const char *>(&v), std::streamsize(std::min<std::size_t>(8, size - i)));
    }
    return path;
}

vodupload::Client client() {
    vodupload::Client c(secret_id, secret_key, endpoint);
    c.rate_limiting(false).max_attempts(2).retry_base_delay(std::chrono::milliseconds(5));
    return c;
}

/* Expects `body` to throw vodupload::Error with `status` and a message containing `phrase`. */
template <typename F> void expect_error(F body, vod_status status, const char *phrase) {
    try {
        body();
        std::fprintf(stderr, "    expected an Error (%s), nothing was thrown\n", phrase);
        harness_current_failed = 1;
    } catch (const vodupload::Error &e) {
        CHECK(e.status() == status);
        if (std::strstr(e.what(), phrase) == nullptr) {
            std::fprintf(stderr, "    \"%s\" lacks \"%s\"\n", e.what(), phrase);
            harness_current_failed = 1;
        }
    }
}

void test_upload_and_instant() {
    auto c = client();
    std::string path = make_file("one.mp4", 3 * 1048576 + 17, 1);
    std::uint64_t last = 0;
    int calls = 0;
    auto r = c.upload(path, vodupload::UploadOptions().tag("cpp").class_id(2),
                      [&](std::uint64_t done, std::uint64_t total) {
                          CHECK(done >= last && total == 3 * 1048576 + 17);
                          last = done;
                          calls++;
                          return true;
                      });
    CHECK(!r.file_id.empty() && r.url.rfind("http", 0) == 0);
    CHECK(r.parts_total == 4 && r.parts_uploaded == 4 && !r.instant);
    CHECK(r.file_size == 3 * 1048576 + 17 && r.file_sha1.size() == 40 && r.retries == 0);
    CHECK(last == r.file_size && calls >= 4);
    auto again = c.upload(path);
    CHECK(again.instant && again.file_id == r.file_id);
}

void test_moves_keep_one_owner() {
    auto a = client();
    vodupload::Client b = std::move(a);
    vodupload::Client c = client();
    c = std::move(b);  // c's old handle is freed, b's moves in: ASan/valgrind check there is no leak
    std::string path = make_file("moved.mp4", 1000, 2);
    CHECK(!c.upload(path).file_id.empty());
    vodupload::UploadOptions o;
    vodupload::UploadOptions p = std::move(o);
    p.name("moved");
}

void test_errors_carry_status_and_code() {
    std::string path = make_file("auth.mp4", 1000, 3);
    vodupload::Client wrong(secret_id, "not-the-key", endpoint);
    try {
        wrong.upload(path);
        CHECK(false);
    } catch (const vodupload::Error &e) {
        CHECK(e.status() == VOD_ERR_AUTH && e.server_code() == -10002 && !e.can_retry());
        CHECK(std::strstr(e.what(), "-10002") != nullptr);
    }
    auto c = client();
    expect_error([&] { c.concurrency(65); }, VOD_ERR_INVALID_INPUT,
                 "concurrency 65 is out of range: use 1 to 64");
    expect_error([&] { c.request_timeout(std::chrono::milliseconds(0)); }, VOD_ERR_INVALID_INPUT,
                 "request_timeout must be more than 0 and at most 86400 seconds, not 0");
    expect_error([&] { c.option("concurency", "2"); }, VOD_ERR_INVALID_INPUT,
                 "unknown client option");
    expect_error([&] { vodupload::UploadOptions().name("   "); }, VOD_ERR_INVALID_INPUT,
                 "is empty or only spaces");
    expect_error([&] { c.upload(std::string(dir) + "/missing.mp4"); }, VOD_ERR_NOT_FOUND,
                 "no such file");
    expect_error([] { vodupload::Client("", "k"); }, VOD_ERR_INVALID_INPUT, "SecretId");
}

struct Stop : std::exception {
    const char *what() const noexcept override { return "stopped by the test"; }
};

void test_a_throwing_callback_stops_and_rethrows() {
    auto c = client();
    c.concurrency(1).part_size(524288);
    std::string path = make_file("throws.mp4", 8 * 524288, 4);
    int parts = 0;
    try {
        c.upload(path, {}, [&](std::uint64_t done, std::uint64_t) {
            if (done > 0 && ++parts == 3) throw Stop();
            return true;
        });
        CHECK(false);
    } catch (const Stop &) {
        // The callback's own exception, unchanged, after the library returned.
    } catch (const vodupload::Error &e) {
        std::fprintf(stderr, "    got a vodupload::Error instead: %s\n", e.what());
        CHECK(false);
    }
    // The parts already stored stay: a second run resumes.
    auto r = c.upload(path);
    CHECK(r.parts_skipped >= 3 && r.parts_skipped + r.parts_uploaded == 8);
    // Returning false stops it too, as VOD_ERR_ABORTED.
    std::string other = make_file("false.mp4", 4 * 524288, 5);
    expect_error([&] { c.upload(other, {}, [](std::uint64_t, std::uint64_t) { return false; }); },
                 VOD_ERR_ABORTED, "cancel");
}

void test_step_by_step() {
    auto c = client();
    c.part_size(524288);
    std::string path = make_file("steps.flv", 3 * 524288 + 5, 6);
    vodupload::Upload up = c.begin(path);
    CHECK(up.part_count() == 4 && up.parts_needed().size() == 4);
    for (std::size_t i : up.parts_needed()) up.upload_part(i);
    CHECK(up.bytes_done() == up.bytes_total());
    auto r = up.finish();
    CHECK(r.parts_uploaded == 4 && r.file_size == 3 * 524288 + 5);
    expect_error([&] { up.upload_part(99); }, VOD_ERR_INVALID_INPUT, "out of range");
}

void test_events() {
    auto c = client();
    c.events_endpoint(std::string_view(endpoint));
    std::string path = make_file("event.mp4", 2000, 7);
    auto r = c.upload(path);
    bool seen = false;
    for (int round = 0; round < 20 && !seen; round++) {
        auto events = c.pull_events();
        std::vector<std::string> handles;
        for (const auto &e : events) {
            seen |= e.file_id == r.file_id && e.event_type == "NewFileUpload";
            handles.push_back(e.msg_handle);
        }
        c.confirm_events(handles);
    }
    CHECK(seen);
    c.events_endpoint(std::nullopt);
}

void test_every_setter_reaches_the_core() {
    auto c = client();
    char cache[] = "/tmp/vod-cpp-cache-XXXXXX";
    CHECK(mkdtemp(cache) != nullptr);
    c.part_size(1048576).concurrency(3).max_attempts(3).connect_timeout(std::chrono::seconds(5))
        .request_timeout(std::chrono::seconds(30)).retry_base_delay(std::chrono::milliseconds(100))
        .retry_max_delay(std::chrono::seconds(2)).region("bj").signature_method("HmacSHA256")
        .rate_limiting(true).rate_limits(3000, 60).pacing_url("redis://127.0.0.1:6379/0")
        .pacing_url(std::nullopt).proxy("http://127.0.0.1:3128").fingerprint_cache(std::filesystem::path(cache))
        .fingerprint_cache(std::nullopt).option("concurrency", "2").option("proxy", std::nullopt);
    expect_error([&] { c.ca_file("/nonexistent.pem"); }, VOD_ERR_NOT_FOUND, "CA file");
    rmdir(cache);
    CHECK(vodupload::version() == VOD_EXPECTED_VERSION);
}

} // namespace

int main() {
    endpoint = harness_env("VOD_TEST_ENDPOINT");
    secret_id = harness_env("VOD_TEST_ID");
    secret_key = harness_env("VOD_TEST_KEY");
    dir = harness_env("VOD_TEST_DIR");
    RUN_TEST(test_upload_and_instant);
    RUN_TEST(test_moves_keep_one_owner);
    RUN_TEST(test_errors_carry_status_and_code);
    RUN_TEST(test_a_throwing_callback_stops_and_rethrows);
    RUN_TEST(test_step_by_step);
    RUN_TEST(test_events);
    RUN_TEST(test_every_setter_reaches_the_core);
    return harness_finish("test_wrapper");
}
