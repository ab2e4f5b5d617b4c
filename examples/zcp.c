/*
 * zcp: copy a file with zcopy_copy and say how.
 *
 *   zcp SRC DST
 *
 * zcopy_copy picks the best path for the pair of fds (copy_file_range for
 * file to file, falling back to sendfile or read/write). DST is created
 * with SRC's mode bits, or truncated. Prints the bytes copied and the
 * method on stdout; errors go to stderr (exit 1; usage errors exit 2).
 *
 * Build: cc -std=c99 -O2 zcp.c $(pkg-config --cflags --libs zcopy)
 */
#define _POSIX_C_SOURCE 200809L
#include <zcopy.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    struct stat st;
    zcopy_result r;
    int in, out;

    if (argc != 3) {
        fprintf(stderr, "usage: %s SRC DST\n", argv[0]);
        return 2;
    }
    in = open(argv[1], O_RDONLY | O_CLOEXEC);
    if (in < 0 || fstat(in, &st) != 0) {
        fprintf(stderr, "zcp: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    if (S_ISDIR(st.st_mode)) {
        fprintf(stderr, "zcp: %s: %s\n", argv[1], strerror(EISDIR));
        return 1;
    }
    out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.st_mode & 07777);
    if (out < 0) {
        fprintf(stderr, "zcp: %s: %s\n", argv[2], strerror(errno));
        close(in);
        return 1;
    }
    r = zcopy_copy(out, in, ZCOPY_ALL);
    if (r.error != 0) {
        fprintf(stderr, "zcp: copying %s to %s: %s (%lld bytes copied with %s)\n", argv[1], argv[2],
                strerror(r.error), (long long)r.written, zcopy_method_name(r.method));
        close(in);
        close(out);
        return 1;
    }
    if (close(out) != 0) {
        fprintf(stderr, "zcp: %s: %s\n", argv[2], strerror(errno));
        close(in);
        return 1;
    }
    close(in);
    printf("zcp: copied %lld bytes from %s to %s with %s\n", (long long)r.written, argv[1], argv[2],
           zcopy_method_name(r.method));
    return 0;
}
