/*
 * A command of the transcoder (ffprobe, ffmpeg) in the media sandbox
 * (worker_sandbox.c): its output read line by line, stopped when the
 * worker is, and how it ended told as a job's outcome, naming the limit
 * it exceeded or quoting what it said.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "worker_transcode.h"


double
video_transcode_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static void video_transcode_tail(const char *path, char *out, size_t size);


/* how long a command asked to stop may take before it is killed */
#define VIDEO_STOP_GRACE  10


/*
 * Runs argv in the media sandbox, working in the job's directory, with
 * stdout to a pipe read line by line into on_line (when given) and
 * stderr to errfile.  VIDEO_JOB_OK when it succeeded; PERMANENT when it
 * failed (the file is bad) or exceeded a limit, TRANSIENT when it could
 * not run, t->err saying why; STOPPED when the worker is stopping.
 */

int
video_transcode_run(video_transcode_t *t, char **argv, const char *errfile,
    video_transcode_line_pt on_line, char *out, size_t out_size)
{
    int              fds[2], errfd, rc, status;
    char             buf[4096], why[VIDEO_ERR_MAX], *nl;
    size_t           have, olen;
    double           stopped;
    ssize_t          n;
    struct pollfd    pfd;
    video_sandbox_t  sb;

    errfd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW
                          | O_CLOEXEC, 0644);
    if (errfd < 0) {
        snprintf(t->err, sizeof(t->err), "cannot write \"%.400s\": %s",
                 errfile, strerror(errno));
        return VIDEO_JOB_TRANSIENT;
    }

    if (pipe(fds) != 0) {
        snprintf(t->err, sizeof(t->err), "pipe() failed: %s",
                 strerror(errno));
        close(errfd);
        return VIDEO_JOB_TRANSIENT;
    }

    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);

    rc = video_sandbox_start(&sb, t->dir, argv, fds[1], errfd, why,
                             sizeof(why));
    close(fds[1]);
    close(errfd);

    if (rc != 0) {
        close(fds[0]);
        snprintf(t->err, sizeof(t->err), "cannot run %.40s: %.400s", argv[0],
                 why);
        return VIDEO_JOB_TRANSIENT;
    }

    have = 0;
    olen = 0;
    stopped = 0;

    pfd.fd = fds[0];
    pfd.events = POLLIN;

    for ( ;; ) {

        /* asked to stop: the command is, then killed if it lingers */

        if (video_worker_stop && stopped == 0) {
            video_sandbox_kill(&sb, SIGTERM);
            stopped = video_transcode_now();

        } else if (stopped > 0
                   && video_transcode_now() - stopped > VIDEO_STOP_GRACE)
        {
            video_sandbox_kill(&sb, SIGKILL);
        }

        rc = poll(&pfd, 1, 1000);

        if (rc == 0 || (rc < 0 && errno == EINTR)) {
            continue;
        }

        n = (rc < 0) ? -1 : read(fds[0], buf + have, sizeof(buf) - 1 - have);

        if (n < 0 && errno == EINTR) {
            continue;
        }

        if (n <= 0) {
            break;
        }

        if (out != NULL && olen + n < out_size) {
            memcpy(out + olen, buf + have, n);
            olen += n;
            out[olen] = '\0';
        }

        have += n;
        buf[have] = '\0';

        while ((nl = memchr(buf, '\n', have)) != NULL) {
            if (on_line != NULL) {
                on_line(t, buf, nl - buf);
            }

            have -= nl + 1 - buf;
            memmove(buf, nl + 1, have);
        }

        if (have == sizeof(buf) - 1) {
            have = 0;
        }
    }

    close(fds[0]);

    rc = video_sandbox_wait(&sb, errfile, &status, why, sizeof(why));

    if (stopped > 0 || video_worker_stop) {
        return VIDEO_JOB_STOPPED;
    }

    if (rc != VIDEO_SANDBOX_ERROR) {
        video_worker_log("%s%s%s: %.1f CPU-s, %ld MB of address space at "
                         "most", t->job.video_id,
                         t->job.video_id[0] ? ": " : "", argv[0],
                         sb.cpu_ms / 1000.0, sb.vm_kb / 1024);
    }

    switch (rc) {

    case VIDEO_SANDBOX_OK:
        return VIDEO_JOB_OK;

    case VIDEO_SANDBOX_ERROR:
        snprintf(t->err, sizeof(t->err), "cannot run %.40s: %.400s", argv[0],
                 why);
        return VIDEO_JOB_TRANSIENT;

    case VIDEO_SANDBOX_LIMIT:
        snprintf(t->err, sizeof(t->err), "%s", why);
        t->limit = 1;
        return VIDEO_JOB_PERMANENT;

    default:

        /* what the command said, or how it died */

        video_transcode_tail(errfile, t->err, sizeof(t->err));

        if (t->err[0] == '\0' || why[0] != '\0') {
            snprintf(t->err, sizeof(t->err), "%.40s %.400s", argv[0],
                     why[0] ? why : "failed");
        }

        return VIDEO_JOB_PERMANENT;
    }
}


/* the last non-empty line of a file, for error messages */

static void
video_transcode_tail(const char *path, char *out, size_t size)
{
    FILE  *f;
    char   line[VIDEO_ERR_MAX];

    out[0] = '\0';

    f = fopen(path, "r");
    if (f == NULL) {
        return;
    }

    while (fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] != '\0') {
            snprintf(out, size, "%s", line);
        }
    }

    fclose(f);
}
