/* vodupload.hpp: a header-only C++17 interface to libvodupload, over its C ABI (vodupload.h).
 *
 *     #include <vodupload.hpp>
 *
 *     vodupload::Client client = vodupload::Client::from_env();
 *     vodupload::UploadResult r = client.upload("/srv/video.mp4", {}, [](std::uint64_t done,
 *                                                                         std::uint64_t total) {
 *         std::printf("%llu / %llu\n", (unsigned long long)done, (unsigned long long)total);
 *         return true;                      // false stops the upload (vodupload::Error, aborted)
 *     });
 *     std::printf("%s %s\n", r.file_id.c_str(), r.url.c_str());
 *
 * Every handle is owned by one object (move-only; the destructor frees it). Every failure is a
 * vodupload::Error carrying the library's status, message, the service's code and whether a
 * retry can help. A progress callback may throw: the upload stops and the exception is rethrown
 * from the call, unchanged, once the library has returned (it never crosses the C library).
 * Thread-safety is the C library's: a Client may be used from several threads at once; an
 * UploadOptions may not be changed while a call that was given it runs. Link with
 * `pkg-config --libs vodupload` (see docs/c.md).
 */
#ifndef VODUPLOAD_HPP
#define VODUPLOAD_HPP

#include <vodupload.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vodupload {

/** A failed call: the library's status and message, and what the service said. */
class Error : public std::runtime_error {
public:
    Error(vod_status status, const std::string &message, std::int64_t server_code, bool can_retry)
        : std::runtime_error(message), status_(status), server_code_(server_code),
          can_retry_(can_retry) {}

    /** The C status, e.g. VOD_ERR_AUTH; its band (status / 1000) says what kind of failure. */
    vod_status status() const noexcept { return status_; }
    /** The service's error code (e.g. -10002) for VOD_ERR_AUTH and VOD_ERR_SERVER, else 0. */
    std::int64_t server_code() const noexcept { return server_code_; }
    /** Whether trying again later can help (the library already retried what it could). */
    bool can_retry() const noexcept { return can_retry_; }

private:
    vod_status status_;
    std::int64_t server_code_;
    bool can_retry_;
};

/** Progress: bytes done and total; return false to stop. */
using ProgressFn = std::function<bool(std::uint64_t done, std::uint64_t total)>;

namespace detail {

[[noreturn]] inline void throw_last(vod_status status) {
    throw Error(status, vod_last_error(), vod_last_server_code(), vod_last_can_retry());
}

inline void check(vod_status status) {
    if (status != VOD_OK) throw_last(status);
}

/** A NUL-terminated copy of a view (views need not be terminated). */
inline std::string c_str(std::string_view s) { return std::string(s); }

inline std::string copy(const char *s) { return s == nullptr ? std::string() : std::string(s); }

/** A C callback's user data: the C++ function, and the exception it threw, if any. */
struct Callback {
    const ProgressFn *fn;
    std::exception_ptr error;
};

/* Called by the library (serialised, never two at once); nothing may escape into C. */
inline std::int32_t trampoline(void *user_data, std::uint64_t done, std::uint64_t total) noexcept {
    auto *cb = static_cast<Callback *>(user_data);
    try {
        return (*cb->fn)(done, total) ? 0 : 1;
    } catch (...) {
        if (!cb->error) cb->error = std::current_exception();
        return 1;
    }
}

/** Runs a C call that takes a progress callback; rethrows what the callback threw. */
template <typename Call> void with_progress(const ProgressFn &fn, Call call) {
    Callback cb{&fn, nullptr};
    vod_status status = fn ? call(&trampoline, &cb) : call(nullptr, nullptr);
    if (cb.error) std::rethrow_exception(cb.error);
    check(status);
}

template <typename T, void (*Free)(T *)> struct Deleter {
    void operator()(T *p) const noexcept { Free(p); }
};

} // namespace detail

/** What a finished upload reports. A plain value. */
struct UploadResult {
    std::string file_id;
    std::string url;
    bool instant = false;
    std::string file_sha1;
    std::uint64_t file_size = 0;
    std::size_t parts_total = 0;
    std::size_t parts_uploaded = 0;
    std::size_t parts_skipped = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t retries = 0;
    std::chrono::milliseconds elapsed{0};
    /** The most parts the upload had in flight at once. */
    std::size_t concurrency_peak = 0;

    /** Copies a C result and frees it. */
    static UploadResult take(vod_upload_result *r) {
        std::unique_ptr<vod_upload_result, detail::Deleter<vod_upload_result, vod_upload_result_free>>
            owned(r);
        UploadResult out;
        out.file_id = detail::copy(vod_upload_result_file_id(r));
        out.url = detail::copy(vod_upload_result_url(r));
        out.instant = vod_upload_result_instant(r);
        out.file_sha1 = detail::copy(vod_upload_result_file_sha1(r));
        out.file_size = vod_upload_result_file_size(r);
        out.parts_total = vod_upload_result_parts_total(r);
        out.parts_uploaded = vod_upload_result_parts_uploaded(r);
        out.parts_skipped = vod_upload_result_parts_skipped(r);
        out.bytes_sent = vod_upload_result_bytes_sent(r);
        out.retries = vod_upload_result_retries(r);
        out.elapsed = std::chrono::milliseconds(vod_upload_result_elapsed_ms(r));
        out.concurrency_peak = vod_upload_result_concurrency_peak(r);
        return out;
    }
};

/** What to say about the video: name, type, tags, category, processing. Setters check at once
 *  (Error with VOD_ERR_INVALID_INPUT) and return the object, for chaining. */
class UploadOptions {
public:
    UploadOptions() {
        vod_upload_options *out = nullptr;
        detail::check(vod_upload_options_new(&out));
        handle_.reset(out);
    }

    /** The video's name, without extension, at most 40 bytes [default: the file's name]. */
    UploadOptions &name(std::string_view name) {
        detail::check(vod_upload_options_set_name(native(), detail::c_str(name).c_str()));
        return *this;
    }
    /** The video's type, e.g. "mp4" [default: the file's extension]. */
    UploadOptions &type(std::string_view type) {
        detail::check(vod_upload_options_set_type(native(), detail::c_str(type).c_str()));
        return *this;
    }
    UploadOptions &tag(std::string_view tag) {
        detail::check(vod_upload_options_add_tag(native(), detail::c_str(tag).c_str()));
        return *this;
    }
    UploadOptions &clear_tags() {
        detail::check(vod_upload_options_clear_tags(native()));
        return *this;
    }
    /** A category id (0 or more); std::nullopt for none. */
    UploadOptions &class_id(std::optional<std::int64_t> id) {
        detail::check(vod_upload_options_set_class_id(native(), id ? *id : -1));
        return *this;
    }
    UploadOptions &transcode(bool on) {
        detail::check(vod_upload_options_set_transcode(native(), on));
        return *this;
    }
    UploadOptions &screenshot(bool on) {
        detail::check(vod_upload_options_set_screenshot(native(), on));
        return *this;
    }
    UploadOptions &watermark(bool on) {
        detail::check(vod_upload_options_set_watermark(native(), on));
        return *this;
    }
    /** Any option by its name, from text (std::nullopt: its default). */
    UploadOptions &option(std::string_view name, std::optional<std::string_view> value) {
        std::string v = value ? detail::c_str(*value) : std::string();
        detail::check(vod_upload_options_set(native(), detail::c_str(name).c_str(),
                                             value ? v.c_str() : nullptr));
        return *this;
    }

    vod_upload_options *native() const noexcept { return handle_.get(); }

private:
    std::unique_ptr<vod_upload_options,
                    detail::Deleter<vod_upload_options, vod_upload_options_free>>
        handle_;
};

/** An upload between its start (hashing and InitUpload) and its finish, driven part by part.
 *  Any part may be sent from any thread; cancel() works from any thread. */
class Upload {
public:
    explicit Upload(vod_upload *handle) : handle_(handle) {}

    std::size_t part_count() const { return vod_upload_part_count(native()); }
    bool part_needed(std::size_t index) const { return vod_upload_part_needed(native(), index); }
    /** The parts still to send, in order. */
    std::vector<std::size_t> parts_needed() const {
        std::vector<std::size_t> out;
        for (std::size_t i = 0, n = part_count(); i < n; i++)
            if (part_needed(i)) out.push_back(i);
        return out;
    }
    std::uint64_t part_size() const { return vod_upload_part_size(native()); }
    std::uint64_t bytes_done() const { return vod_upload_bytes_done(native()); }
    std::uint64_t bytes_total() const { return vod_upload_bytes_total(native()); }
    bool is_instant() const { return vod_upload_is_instant(native()); }
    void upload_part(std::size_t index) { detail::check(vod_upload_part(native(), index)); }
    UploadResult finish() {
        vod_upload_result *out = nullptr;
        detail::check(vod_upload_finish(native(), &out));
        return UploadResult::take(out);
    }
    void cancel() noexcept { vod_upload_cancel(native()); }

    vod_upload *native() const noexcept { return handle_.get(); }

private:
    std::unique_ptr<vod_upload, detail::Deleter<vod_upload, vod_upload_free>> handle_;
};

/** An event of the app's queue with the handle that confirms it. */
struct PulledEvent {
    std::string msg_handle;
    std::string event_type;
    std::string file_id;
    std::string file_url;
    std::string file_name;
    /** The event's JSON as the service sent it. */
    std::string raw_json;
};

/** A client: credentials, endpoint, settings, connection pool; shared by its uploads. */
class Client {
public:
    /** `endpoint` empty: the service's upload host. Throws Error on bad credentials or URL. */
    Client(std::string_view secret_id, std::string_view secret_key,
           std::string_view endpoint = {}) {
        vod_client *out = nullptr;
        std::string ep = detail::c_str(endpoint);
        detail::check(vod_client_new(detail::c_str(secret_id).c_str(),
                                     detail::c_str(secret_key).c_str(),
                                     endpoint.empty() ? nullptr : ep.c_str(), &out));
        handle_.reset(out);
    }

    /** Credentials from TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY. */
    static Client from_env(std::string_view endpoint = {}) {
        vod_client *out = nullptr;
        std::string ep = detail::c_str(endpoint);
        detail::check(vod_client_new_from_env(endpoint.empty() ? nullptr : ep.c_str(), &out));
        return Client(out);
    }

    Client &part_size(std::uint64_t bytes) {
        detail::check(vod_client_set_part_size(native(), bytes));
        return *this;
    }
    /** A fixed number of parts in flight, 1 to 64 (the default is auto_concurrency()). */
    Client &concurrency(std::uint32_t parts) {
        detail::check(vod_client_set_concurrency(native(), parts));
        return *this;
    }
    /** Parts in flight measured and adjusted as uploads go (the default). */
    Client &auto_concurrency() {
        detail::check(vod_client_set_concurrency_auto(native()));
        return *this;
    }
    Client &max_attempts(std::uint32_t attempts) {
        detail::check(vod_client_set_max_attempts(native(), attempts));
        return *this;
    }
    Client &connect_timeout(std::chrono::milliseconds t) {
        detail::check(vod_client_set_connect_timeout_ms(native(), millis(t)));
        return *this;
    }
    Client &request_timeout(std::chrono::milliseconds t) {
        detail::check(vod_client_set_request_timeout_ms(native(), millis(t)));
        return *this;
    }
    Client &retry_base_delay(std::chrono::milliseconds t) {
        detail::check(vod_client_set_retry_base_delay_ms(native(), millis(t)));
        return *this;
    }
    Client &retry_max_delay(std::chrono::milliseconds t) {
        detail::check(vod_client_set_retry_max_delay_ms(native(), millis(t)));
        return *this;
    }
    Client &region(std::string_view region) {
        detail::check(vod_client_set_region(native(), detail::c_str(region).c_str()));
        return *this;
    }
    Client &signature_method(std::string_view method) {
        detail::check(vod_client_set_signature_method(native(), detail::c_str(method).c_str()));
        return *this;
    }
    Client &rate_limiting(bool on) {
        detail::check(vod_client_set_rate_limiting(native(), on));
        return *this;
    }
    /** The account's rates in calls a minute: UploadPart, and InitUpload/FinishUpload each. */
    Client &rate_limits(std::uint32_t upload_part_per_minute, std::uint32_t init_finish_per_minute) {
        detail::check(vod_client_set_rate_limits(native(), upload_part_per_minute,
                                                 init_finish_per_minute));
        return *this;
    }
    /** Shares the pacing through Redis (redis://host:port/db); std::nullopt: this process only. */
    Client &pacing_url(std::optional<std::string_view> url) {
        std::string u = url ? detail::c_str(*url) : std::string();
        detail::check(vod_client_set_pacing_url(native(), url ? u.c_str() : nullptr));
        return *this;
    }
    Client &proxy(std::string_view url) {
        detail::check(vod_client_set_proxy(native(), detail::c_str(url).c_str()));
        return *this;
    }
    Client &ca_file(const std::filesystem::path &pem) {
        detail::check(vod_client_set_ca_file(native(), pem.c_str()));
        return *this;
    }
    /** A private directory caching files' SHA-1 and part MD5s; std::nullopt turns it off. */
    Client &fingerprint_cache(const std::optional<std::filesystem::path> &dir) {
        detail::check(vod_client_set_fingerprint_cache(native(), dir ? dir->c_str() : nullptr));
        return *this;
    }
    /** The event API's URL; std::nullopt: the service's default. */
    Client &events_endpoint(std::optional<std::string_view> url) {
        std::string u = url ? detail::c_str(*url) : std::string();
        detail::check(vod_client_set_events_endpoint(native(), url ? u.c_str() : nullptr));
        return *this;
    }
    /** Any option by its name, from text (std::nullopt: its default): see docs/options.md. */
    Client &option(std::string_view name, std::optional<std::string_view> value) {
        std::string v = value ? detail::c_str(*value) : std::string();
        detail::check(vod_client_set_option(native(), detail::c_str(name).c_str(),
                                            value ? v.c_str() : nullptr));
        return *this;
    }

    /** Uploads a file in one call: hash, InitUpload, the missing parts in parallel, finish.
     *  `progress` runs on the library's threads, never two calls at once. */
    UploadResult upload(const std::filesystem::path &path, const UploadOptions &options = {},
                        const ProgressFn &progress = {}) {
        vod_upload_result *out = nullptr;
        detail::with_progress(progress, [&](vod_progress_cb cb, void *user_data) {
            return vod_upload_file_with_options(native(), path.c_str(), options.native(), cb,
                                                user_data, &out);
        });
        return UploadResult::take(out);
    }

    /** Starts a step-by-step upload (hashes the file and asks the service what it has). */
    Upload begin(const std::filesystem::path &path, const UploadOptions &options = {}) {
        vod_upload *out = nullptr;
        detail::check(vod_upload_begin_with_options(native(), path.c_str(), options.native(), &out));
        return Upload(out);
    }

    /** The oldest unconfirmed events (at most 16); they stay queued until confirmed. */
    std::vector<PulledEvent> pull_events() {
        vod_event_list *list = nullptr;
        detail::check(vod_events_pull(native(), &list));
        std::unique_ptr<vod_event_list, detail::Deleter<vod_event_list, vod_event_list_free>>
            owned(list);
        std::vector<PulledEvent> out;
        for (std::size_t i = 0, n = vod_event_list_count(list); i < n; i++) {
            const vod_event *e = vod_event_list_event(list, i);
            out.push_back(PulledEvent{
                detail::copy(vod_event_list_msg_handle(list, i)),
                detail::copy(vod_event_event_type(e)),
                detail::copy(vod_event_file_id(e)),
                detail::copy(vod_event_file_url(e)),
                detail::copy(vod_event_file_name(e)),
                detail::copy(vod_event_raw_json(e)),
            });
        }
        return out;
    }

    /** Acknowledges handled events by their msg handles. */
    void confirm_events(const std::vector<std::string> &msg_handles) {
        std::vector<const char *> handles;
        handles.reserve(msg_handles.size());
        for (const std::string &h : msg_handles) handles.push_back(h.c_str());
        detail::check(vod_events_confirm(native(), handles.data(), handles.size()));
    }

    vod_client *native() const noexcept { return handle_.get(); }

private:
    explicit Client(vod_client *handle) : handle_(handle) {}

    static std::uint64_t millis(std::chrono::milliseconds t) {
        return t.count() < 0 ? 0 : static_cast<std::uint64_t>(t.count());
    }

    std::unique_ptr<vod_client, detail::Deleter<vod_client, vod_client_free>> handle_;
};

/** The library's version, e.g. "0.1.0". */
inline std::string version() { return vod_version(); }

} // namespace vodupload

#endif /* VODUPLOAD_HPP */
