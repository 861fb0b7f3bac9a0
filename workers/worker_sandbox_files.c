/*
 * The command's files: its directory made ready for it (out/ the only
 * place it may write), and what it left in out/ opened or replaced by
 * the worker without following links.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "worker_sandbox.h"


int
video_sandbox_prepare(const char *dir, char *err, size_t size)
{
    int          fd;
    char         path[1100], why[256];
    struct stat  st;

    if (video_sandbox_check(why, sizeof(why)) != 0) {
        snprintf(err, size, "cannot make the media sandbox: %s", why);
        return -1;
    }

    snprintf(path, sizeof(path), "%s/out", dir);

    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        snprintf(err, size, "cannot create \"%.400s\": %s", path,
                 strerror(errno));
        return -1;
    }

    if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, size, "\"%.400s\" is not a directory", path);
        return -1;
    }

    if (!video_sandbox.root || video_sandbox.off) {
        return 0;
    }

    /* out/ is the media user's; the directory and the original stay
       the worker's, readable by the media group alone */

    if (chown(path, video_sandbox.uid, video_sandbox.gid) != 0
        || chown(dir, (uid_t) -1, video_sandbox.gid) != 0
        || chmod(dir, 0750) != 0)
    {
        snprintf(err, size, "cannot give \"%.400s\" to the media user: %s",
                 path, strerror(errno));
        return -1;
    }

    snprintf(path, sizeof(path), "%s/original", dir);

    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

    if (fd >= 0) {
        if (fchown(fd, 0, video_sandbox.gid) != 0 || fchmod(fd, 0640) != 0) {
            snprintf(err, size, "cannot give \"%.400s\" to the media user: "
                     "%s", path, strerror(errno));
            close(fd);
            return -1;
        }

        close(fd);
    }

    return 0;
}


/* dir/out, not through a link */

static int
video_sandbox_outdir(const char *dir, char *err, size_t size)
{
    int   fd;
    char  path[1100];

    snprintf(path, sizeof(path), "%s/out", dir);

    fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, size, "cannot open \"%.400s\": %s", path,
                 strerror(errno));
    }

    return fd;
}


int
video_sandbox_open(const char *dir, const char *rel, char *err, size_t size)
{
    int          dfd, fd, last;
    char         name[256], *p, *slash;
    struct stat  st;

    if (strlen(rel) >= sizeof(name)) {
        snprintf(err, size, "an output name too long");
        return -1;
    }

    strcpy(name, rel);

    dfd = video_sandbox_outdir(dir, err, size);
    if (dfd < 0) {
        return -1;
    }

    /* one component at a time, none a link, none "." or ".." */

    for (p = name; ; p = slash + 1) {
        slash = strchr(p, '/');
        last = (slash == NULL);

        if (!last) {
            *slash = '\0';
        }

        if (p[0] == '\0' || strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
            snprintf(err, size, "\"out/%.200s\": not a plain name", rel);
            close(dfd);
            return -1;
        }

        fd = openat(dfd, p, last ? O_RDONLY | O_NOFOLLOW | O_NONBLOCK
                                   | O_NOCTTY | O_CLOEXEC
                                 : O_RDONLY | O_DIRECTORY | O_NOFOLLOW
                                   | O_CLOEXEC);
        close(dfd);

        if (fd < 0) {
            snprintf(err, size, "cannot open \"out/%.200s\": %s", rel,
                     strerror(errno));
            return -1;
        }

        if (last) {
            break;
        }

        dfd = fd;
    }

    /* a file the command made here, not a name of another one */

    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1
        || (st.st_uid != video_sandbox.uid && st.st_uid != geteuid())
        || fcntl(fd, F_SETFL, 0) != 0)
    {
        snprintf(err, size, "\"out/%.200s\" is not a file the transcoder "
                 "wrote", rel);
        close(fd);
        return -1;
    }

    return fd;
}


int
video_sandbox_write(const char *dir, const char *rel, const char *data,
    size_t len, char *err, size_t size)
{
    int      dfd, fd;
    ssize_t  n;

    dfd = video_sandbox_outdir(dir, err, size);
    if (dfd < 0) {
        return -1;
    }

    /* whatever has the name goes: a new file, never one behind a link */

    if (unlinkat(dfd, rel, 0) != 0 && errno != ENOENT) {
        snprintf(err, size, "cannot replace \"out/%.200s\": %s", rel,
                 strerror(errno));
        close(dfd);
        return -1;
    }

    fd = openat(dfd, rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW
                          | O_CLOEXEC, 0644);
    close(dfd);

    if (fd < 0) {
        snprintf(err, size, "cannot write \"out/%.200s\": %s", rel,
                 strerror(errno));
        return -1;
    }

    n = write(fd, data, len);

    if (close(fd) != 0 || n != (ssize_t) len) {
        snprintf(err, size, "cannot write \"out/%.200s\"", rel);
        return -1;
    }

    return 0;
}
