// Uploads one video with the C++ interface of libvodupload and prints its file id and URL.
//
// Build:  c++ -std=c++17 -Wall -Wextra upload.cpp $(pkg-config --cflags --libs vodupload) -o upload
// Run:    TENCENTCLOUD_SECRET_ID=AKID... TENCENTCLOUD_SECRET_KEY=... ./upload video.mp4
//         (VOD_ENDPOINT=http://127.0.0.1:PORT/v2/index.php points it at another server, such as
//         the vodupload emulator)
//
// Interrupted uploads resume: run it again with the same file and only the missing parts go.
#include <cstdio>
#include <cstdlib>

#include <vodupload.hpp>

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s VIDEO_FILE\n", argv[0]);
        return 2;
    }
    try {
        const char *endpoint = std::getenv("VOD_ENDPOINT");
        auto client = vodupload::Client::from_env(endpoint ? endpoint : "");
        auto result = client.upload(argv[1], {}, [](std::uint64_t done, std::uint64_t total) {
            std::fprintf(stderr, "\ruploaded %3.0f%%", total ? 100.0 * double(done) / double(total) : 100.0);
            return true;  // false would stop the upload
        });
        std::fprintf(stderr, "\n");
        std::printf("file id: %s\nurl: %s\n", result.file_id.c_str(), result.url.c_str());
        if (result.instant) std::printf("(the service already had this file)\n");
        return 0;
    } catch (const vodupload::Error &e) {
        std::fprintf(stderr, "\n%s: %s\n", argv[1], e.what());
        if (e.server_code() != 0)
            std::fprintf(stderr, "service error code %lld%s\n", (long long)e.server_code(),
                         e.can_retry() ? " (worth retrying later)" : "");
        return 1;
    }
}
