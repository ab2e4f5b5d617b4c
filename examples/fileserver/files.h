/*
 * fileserver/files.h: the files under ROOT, for examples/fileserver.c.
 *
 * Paths are never resolved to strings. ROOT is opened once at startup and
 * every file is opened relative to that fd with openat2(RESOLVE_BENEATH),
 * so the kernel refuses any walk that would leave ROOT (a "..", an absolute
 * symlink, a symlink pointing outside) with EXDEV, in the same system call
 * that opens the file: no realpath, no readlink per request. Where openat2
 * is missing (Linux < 5.6: ENOSYS; a seccomp filter: EPERM) the path is
 * walked one component at a time with O_NOFOLLOW, and any symlink is
 * refused.
 *
 * Opened files are kept in a cache: one fd per file, shared by every
 * connection on every thread (zcopy_sendfile_at sends from an offset of
 * the caller's, never from the fd's position, so concurrent ranges of one
 * fd do not disturb each other). The cache is a hash table with a mutex
 * per bucket, held only for list operations (no system call under it
 * except closing a replaced fd), so two threads meet on a lock only when
 * they ask for files of the same bucket at the same instant.
 *
 * A request costs one fstatat(2) of the path to see whether the cached fd
 * is still the file there (same device and inode): a file replaced on disk
 * is reopened. Serving only fds that were opened beneath ROOT keeps this
 * safe even if the stat itself followed a symlink planted later: its inode
 * then differs, and the reopen refuses the path.
 */
#include <linux/openat2.h>
#include <sys/syscall.h>

static int root_fd = -1;

static int openat2_missing; /* set once openat2 said ENOSYS/EPERM */

/* The fallback walk: each directory with O_NOFOLLOW|O_DIRECTORY, the last
   component with O_NOFOLLOW; a symlink anywhere gives ELOOP. */
static int open_walk(const char *rel) {
    char comp[NAME_MAX + 1];
    int dir = root_fd, fd;
    for (;;) {
        size_t n = strcspn(rel, "/");
        if (n > NAME_MAX) {
            fd = -1, errno = ENAMETOOLONG;
            break;
        }
        memcpy(comp, rel, n);
        comp[n] = '\0';
        rel += n;
        while (*rel == '/')
            rel++;
        if (*rel == '\0') {
            fd = openat(dir, comp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
            break;
        }
        fd = openat(dir, comp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_DIRECTORY);
        if (fd < 0)
            break;
        if (dir != root_fd)
            close(dir);
        dir = fd;
    }
    if (dir != root_fd) {
        int err = errno;
        close(dir);
        errno = err;
    }
    return fd;
}

/* Opens `rel` (relative, no leading '/') for reading, beneath root only.
   O_NONBLOCK: should a FIFO have been swapped in since the caller's stat,
   the open returns at once instead of stalling the loop (the fstat after
   it then refuses anything but a regular file). */
static int open_beneath(const char *rel) {
    if (!openat2_missing) {
        struct open_how how;
        long fd;
        memset(&how, 0, sizeof how);
        how.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
        fd = syscall(SYS_openat2, root_fd, rel, &how, sizeof how);
        if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
            return (int)fd;
        openat2_missing = 1;
    }
    return open_walk(rel);
}

/* The HTTP status for an errno from opening or stat-ing a path. */
static int open_status(int err) {
    /* EXDEV: RESOLVE_BENEATH refused a walk out of root; ELOOP: a symlink
       in the fallback walk (or a loop). */
    return err == EXDEV || err == ELOOP || err == EACCES || err == EPERM ? 403 : 404;
}

/* ---- the shared-fd cache ------------------------------------------------ */

struct entry {
    char *path;  /* relative to root */
    int fd;
    dev_t dev;
    ino_t ino;
    int refs;    /* responses using it right now */
    int cached;  /* still in its bucket (else closed at refs 0) */
    struct entry *next;
};

#define BUCKETS 64
#define BUCKET_MAX 8 /* entries per bucket: 512 files at most stay open */

static struct bucket {
    pthread_mutex_t lock;
    struct entry *list;
    int count;
} buckets[BUCKETS];

static void cache_init(void) {
    int i;
    for (i = 0; i < BUCKETS; i++)
        pthread_mutex_init(&buckets[i].lock, NULL);
}

static struct bucket *bucket_of(const char *path) {
    unsigned h = 2166136261u; /* FNV-1a */
    for (; *path != '\0'; path++)
        h = (h ^ (unsigned char)*path) * 16777619u;
    return &buckets[h % BUCKETS];
}

static void entry_free(struct entry *e) {
    close(e->fd);
    free(e->path);
    free(e);
}

/* Takes e out of b (b locked); frees it when nobody uses it. */
static void bucket_drop(struct bucket *b, struct entry *e) {
    struct entry **p;
    for (p = &b->list; *p != NULL; p = &(*p)->next)
        if (*p == e) {
            *p = e->next;
            b->count--;
            e->cached = 0;
            if (e->refs == 0)
                entry_free(e);
            return;
        }
}

/* The entry for `path` if it is the file `st` describes (b locked). */
static struct entry *bucket_find(struct bucket *b, const char *path, const struct stat *st) {
    struct entry *e;
    for (e = b->list; e != NULL; e = e->next) {
        if (strcmp(e->path, path) != 0)
            continue;
        if (e->dev == st->st_dev && e->ino == st->st_ino) {
            e->refs++;
            return e;
        }
        bucket_drop(b, e); /* replaced on disk: the last user closes it */
        return NULL;
    }
    return NULL;
}

/* The shared fd for `path`, whose fstatat is `st`; opened on first use.
   NULL with errno set when it cannot be opened beneath root. */
static struct entry *file_get(const char *path, const struct stat *st) {
    struct bucket *b = bucket_of(path);
    struct entry *e, *victim = NULL;
    struct stat fst;
    int fd;

    pthread_mutex_lock(&b->lock);
    e = bucket_find(b, path, st);
    pthread_mutex_unlock(&b->lock);
    if (e != NULL)
        return e;
    /* Opened outside the lock: a slow disk must not stall other threads. */
    fd = open_beneath(path);
    if (fd < 0)
        return NULL;
    if (fstat(fd, &fst) != 0 || !S_ISREG(fst.st_mode)) {
        close(fd);
        errno = ENOENT;
        return NULL;
    }
    e = (struct entry *)calloc(1, sizeof *e);
    if (e == NULL || (e->path = strdup(path)) == NULL) {
        free(e);
        close(fd);
        errno = ENOMEM;
        return NULL;
    }
    e->fd = fd;
    e->dev = fst.st_dev;
    e->ino = fst.st_ino;
    e->refs = 1;
    pthread_mutex_lock(&b->lock);
    victim = bucket_find(b, path, &fst);
    if (victim != NULL) {
        /* Another thread opened it meanwhile: one fd per file, theirs. */
        pthread_mutex_unlock(&b->lock);
        entry_free(e);
        return victim;
    }
    if (b->count >= BUCKET_MAX) {
        struct entry *v;
        for (v = b->list; v != NULL; v = v->next)
            if (v->refs == 0)
                victim = v; /* the oldest unused: entries are added in front */
        if (victim != NULL)
            bucket_drop(b, victim);
    }
    if (b->count < BUCKET_MAX) {
        e->cached = 1;
        e->next = b->list;
        b->list = e;
        b->count++;
    }
    pthread_mutex_unlock(&b->lock);
    return e;
}

static void file_put(struct entry *e) {
    struct bucket *b = bucket_of(e->path);
    pthread_mutex_lock(&b->lock);
    if (--e->refs == 0 && !e->cached)
        entry_free(e);
    pthread_mutex_unlock(&b->lock);
}
