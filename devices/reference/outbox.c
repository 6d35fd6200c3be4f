/*
 * outbox.c - the reference device's outbox: every alarm and notice kept on
 * disk until its Receipt arrives (contract 6.2: "keep its encoded bytes in
 * an outbox, in non-volatile storage if the device can lose power").
 *
 * Owns: the directory STATE/outbox, one file per message, named
 * <messageId>.<kind> (e.g. 7f3a0c52-….alarm) and holding exactly the bytes
 * that are sent, so a re-send is the same message with the same id; and
 * STATE/rejected, where a message the backbone refused is kept with its
 * reason. Does not own: when to send (main.c) or how (link.c).
 *
 * Why a message survives a power cut at any moment: it is written to a
 * temporary file, fsync'ed, renamed to its final name and the directory
 * fsync'ed, so after a crash the final name holds either the whole message
 * or does not exist. Only then is it sent. A temporary file found at start
 * is a write that never finished: the message was never sent, and it is
 * removed. A file is deleted (and the directory fsync'ed) only when its
 * Receipt came, so a message is re-sent after any restart until then.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "device.h"

/* Makes sure a rename or unlink in dir is on disk. */
static int sync_dir(const char *dir, char err[DEV_ERRLEN])
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        dev_errf(err, "cannot sync directory %s: %s", dir, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

static int make_dir(const char *path, char err[DEV_ERRLEN])
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        dev_errf(err, "cannot make directory %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Writes len bytes to path durably: temporary file, fsync, rename, fsync
 * of the directory. mtime, if not NULL, is set as the file's time. */
static int write_durably(const char *dir, const char *name, const char *data, size_t len,
                         const struct timespec *mtime, char err[DEV_ERRLEN])
{
    char tmp[DEV_PATH + 64], path[DEV_PATH + 64];
    int fd = -1;
    int rc = -1;

    snprintf(tmp, sizeof(tmp), "%s/.tmp-%s", dir, name);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        dev_errf(err, "cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    for (size_t done = 0; done < len;) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            dev_errf(err, "cannot write %s: %s", tmp, strerror(errno));
            goto cleanup;
        }
        done += (size_t)n;
    }
    if (mtime && futimens(fd, (struct timespec[2]){*mtime, *mtime}) != 0) {
        dev_errf(err, "cannot set the time of %s: %s", tmp, strerror(errno));
        goto cleanup;
    }
    if (fsync(fd) != 0) {
        dev_errf(err, "cannot sync %s: %s", tmp, strerror(errno));
        goto cleanup;
    }
    if (rename(tmp, path) != 0) {
        dev_errf(err, "cannot rename %s: %s", tmp, strerror(errno));
        goto cleanup;
    }
    rc = sync_dir(dir, err);
cleanup:
    close(fd);
    if (rc != 0)
        unlink(tmp);
    return rc;
}

static int append(struct dev_outbox *o, const char *id, const char *kind)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        struct dev_outbox_entry *e = realloc(o->e, cap * sizeof(*e));
        if (e == NULL)
            return -1;
        o->e = e;
        o->cap = cap;
    }
    struct dev_outbox_entry *e = &o->e[o->n++];
    memset(e, 0, sizeof(*e));
    snprintf(e->id, sizeof(e->id), "%s", id);
    snprintf(e->kind, sizeof(e->kind), "%s", kind);
    return 0;
}

/* Oldest first, so that messages go out again in the order they were
 * made. The file times say it: dev_outbox_put gives each file a time later
 * than the one before (the clock alone may give two files the same). */
struct found {
    char name[256];
    struct timespec mtime;
};
static int by_mtime(const void *a, const void *b)
{
    const struct found *x = a, *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec)
        return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec)
        return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
    return strcmp(x->name, y->name);
}

int dev_outbox_open(struct dev_outbox *o, const char *state_dir, char err[DEV_ERRLEN])
{
    DIR *d = NULL;
    struct found *f = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;

    memset(o, 0, sizeof(*o));
    snprintf(o->dir, sizeof(o->dir), "%s/outbox", state_dir);
    snprintf(o->rejected, sizeof(o->rejected), "%s/rejected", state_dir);
    if (make_dir(o->dir, err) != 0)
        return -1;
    d = opendir(o->dir);
    if (d == NULL) {
        dev_errf(err, "cannot read %s: %s", o->dir, strerror(errno));
        return -1;
    }
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        char path[DEV_PATH + 300];
        struct stat st;
        const char *dot = strchr(de->d_name, '.');

        snprintf(path, sizeof(path), "%s/%s", o->dir, de->d_name);
        if (strncmp(de->d_name, ".tmp-", 5) == 0) {
            unlink(path); /* a write that never finished: never sent */
            continue;
        }
        /* <36-character id>.<kind> */
        if (dot == NULL || dot - de->d_name != DEV_UUID_LEN - 1 || strlen(dot + 1) == 0 ||
            strlen(dot + 1) >= sizeof(o->e[0].kind) || stat(path, &st) != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            struct found *g = realloc(f, cap * sizeof(*f));
            if (g == NULL) {
                dev_errf(err, "out of memory reading %s", o->dir);
                goto cleanup;
            }
            f = g;
        }
        snprintf(f[n].name, sizeof(f[n].name), "%s", de->d_name);
        f[n++].mtime = st.st_mtim;
        if (by_mtime(&f[n - 1], &(struct found){.mtime = o->last_mtime}) > 0)
            o->last_mtime = st.st_mtim;
    }
    if (n > 0)
        qsort(f, n, sizeof(*f), by_mtime);
    for (size_t i = 0; i < n; i++) {
        f[i].name[DEV_UUID_LEN - 1] = '\0'; /* id, then kind after the dot */
        if (append(o, f[i].name, f[i].name + DEV_UUID_LEN) != 0) {
            dev_errf(err, "out of memory reading %s", o->dir);
            goto cleanup;
        }
    }
    rc = 0;
cleanup:
    free(f);
    closedir(d);
    if (rc != 0)
        dev_outbox_close(o);
    return rc;
}

int dev_outbox_put(struct dev_outbox *o, const char *id, const char *kind, const char *json,
                   char err[DEV_ERRLEN])
{
    char name[DEV_UUID_LEN + 20];

    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (now.tv_sec < o->last_mtime.tv_sec ||
        (now.tv_sec == o->last_mtime.tv_sec && now.tv_nsec <= o->last_mtime.tv_nsec)) {
        now = o->last_mtime;
        if (++now.tv_nsec == 1000000000) {
            now.tv_sec++;
            now.tv_nsec = 0;
        }
    }
    snprintf(name, sizeof(name), "%s.%s", id, kind);
    if (write_durably(o->dir, name, json, strlen(json), &now, err) != 0)
        return -1;
    o->last_mtime = now;
    if (append(o, id, kind) != 0) {
        dev_errf(err, "out of memory");
        return -1;
    }
    return 0;
}

int dev_outbox_read(const struct dev_outbox *o, const struct dev_outbox_entry *e, char **json,
                    size_t *len, char err[DEV_ERRLEN])
{
    char path[DEV_PATH + 64];
    FILE *f = NULL;
    char *buf = NULL;
    long size;
    int rc = -1;

    snprintf(path, sizeof(path), "%s/%s.%s", o->dir, e->id, e->kind);
    f = fopen(path, "rb");
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        dev_errf(err, "cannot read %s: %s", path, strerror(errno));
        goto cleanup;
    }
    buf = malloc((size_t)size + 1);
    if (buf == NULL || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        dev_errf(err, "cannot read %s", path);
        goto cleanup;
    }
    buf[size] = '\0';
    *json = buf;
    *len = (size_t)size;
    buf = NULL;
    rc = 0;
cleanup:
    free(buf);
    if (f)
        fclose(f);
    return rc;
}

struct dev_outbox_entry *dev_outbox_find(struct dev_outbox *o, const char *id)
{
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->e[i].id, id) == 0)
            return &o->e[i];
    return NULL;
}

int dev_outbox_done(struct dev_outbox *o, const char *id, const char *rejected_reason,
                    char err[DEV_ERRLEN])
{
    struct dev_outbox_entry *e = dev_outbox_find(o, id);
    char path[DEV_PATH + 64];

    if (e == NULL)
        return 0;
    snprintf(path, sizeof(path), "%s/%s.%s", o->dir, e->id, e->kind);
    if (rejected_reason) {
        /* Kept for people to read: the message as sent and the reason. */
        const char *rej = o->rejected;
        char to[DEV_PATH + 64], name[DEV_UUID_LEN + 8];
        snprintf(to, sizeof(to), "%s/%s.%s", rej, e->id, e->kind);
        snprintf(name, sizeof(name), "%s.reason", e->id);
        if (make_dir(rej, err) != 0 ||
            write_durably(rej, name, rejected_reason, strlen(rejected_reason), NULL, err) != 0)
            return -1;
        if (rename(path, to) != 0) {
            dev_errf(err, "cannot move %s to %s: %s", path, rej, strerror(errno));
            return -1;
        }
    } else if (unlink(path) != 0 && errno != ENOENT) {
        dev_errf(err, "cannot remove %s: %s", path, strerror(errno));
        return -1;
    }
    if (sync_dir(o->dir, err) != 0)
        return -1;
    size_t i = (size_t)(e - o->e);
    memmove(&o->e[i], &o->e[i + 1], (o->n - i - 1) * sizeof(*e));
    o->n--;
    return 0;
}

void dev_outbox_close(struct dev_outbox *o)
{
    free(o->e);
    o->e = NULL;
    o->n = o->cap = 0;
}
