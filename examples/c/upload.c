/* Uploads one video with libvodupload and prints its file id and URL.
 *
 * Build:  cc -Wall -Wextra -std=c11 upload.c $(pkg-config --cflags --libs vodupload) -o upload
 * Run:    TENCENTCLOUD_SECRET_ID=AKID... TENCENTCLOUD_SECRET_KEY=... ./upload video.mp4
 *         (VOD_ENDPOINT=http://127.0.0.1:PORT/v2/index.php points it at another server, such as
 *         the vodupload emulator)
 *
 * Interrupted uploads resume: run it again with the same file and only the missing parts are
 * sent. */
#include <stdio.h>
#include <stdlib.h>

#include <vodupload.h>

/* Called after every part the service stores (from the library's threads, one call at a time). */
static int32_t show_progress(void *user_data, uint64_t done, uint64_t total) {
    (void)user_data;
    fprintf(stderr, "\ruploaded %3.0f%%", total ? 100.0 * (double)done / (double)total : 100.0);
    return 0; /* non-zero would stop the upload (VOD_ERR_ABORTED) */
}

static int fail(const char *what, vod_status status) {
    fprintf(stderr, "%s: %s: %s\n", what, vod_strerror(status), vod_last_error());
    if (vod_last_server_code() != 0) {
        fprintf(stderr, "service error code %lld%s\n", (long long)vod_last_server_code(),
                vod_last_can_retry() ? " (worth retrying later)" : "");
    }
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s VIDEO_FILE\n", argv[0]);
        return 2;
    }
    vod_client *client = NULL;
    /* Credentials from TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY; endpoint: NULL = default. */
    vod_status s = vod_client_new_from_env(getenv("VOD_ENDPOINT"), &client);
    if (s != VOD_OK) return fail("cannot create the client", s);

    vod_upload_result *result = NULL;
    s = vod_upload_file(client, argv[1], show_progress, NULL, &result);
    fprintf(stderr, "\n");
    if (s != VOD_OK) {
        vod_client_free(client);
        return fail(argv[1], s);
    }
    printf("file id: %s\n", vod_upload_result_file_id(result));
    printf("url: %s\n", vod_upload_result_url(result));
    if (vod_upload_result_instant(result)) printf("(the service already had this file)\n");

    vod_upload_result_free(result);
    vod_client_free(client);
    return 0;
}
