/*
 * The media sandbox.  ffprobe and ffmpeg decode files from users, so they
 * run apart from what the worker holds: in their own network, PID and IPC
 * namespaces (no network at all; every process of the run dies with it),
 * as their own user (media_user, when the worker is root; otherwise in a
 * user namespace of their own), with Landlock letting them read only
 * the system's programs and libraries and their job's directory and
 * write only its out/ (nothing of conf/ or the run directory, whatever
 * the files' modes), a seccomp filter refusing sockets, new processes
 * and a few kernel interfaces, no privileges to gain, an environment of
 * PATH alone, no descriptor of the worker's, and CPU-time, memory and
 * file-size limits.
 *
 *   worker --clone(new namespaces)--> init: forwards SIGTERM, reaps,
 *                                     reports the command's end
 *                                       --fork--> limits, Landlock, user,
 *                                                 seccomp, exec command
 *
 * The init process is the namespaces' PID 1: when it exits, the kernel
 * kills whatever the command left behind.  It reports on a pipe how the
 * sandbox could not be made, or how the command ended and the CPU time
 * it used, so a limit is named when one was hit.
 *
 * This file is the worker's side: what the sandbox can be made of,
 * starting a command in it and waiting for its end, and "video-worker
 * sandbox".  The init and the command's processes are
 * worker_sandbox_init.c, the confinement they apply
 * worker_sandbox_limits.c, _landlock.c and _seccomp.c, and the
 * command's directory and outputs worker_sandbox_files.c.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "worker_sandbox.h"


/* the steps, as reported */
static const char  *video_sandbox_steps[] = {
    "descriptors", "user namespace maps", "fork", "resource limits",
    "chdir", "landlock", "no_new_privs", "groups", "user", "seccomp",
    "signals"
};


video_sandbox_state_t  video_sandbox;


static char  video_sandbox_stack[256 * 1024] __attribute__((aligned(16)));


/* -- what can be made --------------------------------------------------- */

int
video_sandbox_check(char *summary, size_t size)
{
    char           limits[128];
    struct passwd *pw;

    if (video_sandbox.checked) {
        goto done;
    }

    video_sandbox.checked = 1;
    video_sandbox.off = !video_worker_conf.media_sandbox;
    video_sandbox.landlock = video_sandbox_landlock_abi();
    video_sandbox.outer_uid = geteuid();
    video_sandbox.outer_gid = getegid();
    video_sandbox.root = (video_sandbox.outer_uid == 0);

    snprintf(limits, sizeof(limits), "CPU time %d s, memory %d MB, files "
             "%d MB (0: none)", video_worker_conf.media_cpu_seconds,
             video_worker_conf.media_memory_mb,
             video_worker_conf.media_file_mb);

    if (video_sandbox.off) {
        video_sandbox.uid = video_sandbox.outer_uid;
        video_sandbox.gid = video_sandbox.outer_gid;
        snprintf(video_sandbox.summary, sizeof(video_sandbox.summary),
                 "off (media_sandbox = off): ffmpeg runs as the worker, "
                 "with its network; limits: %s", limits);
        goto done;
    }

    if (video_sandbox.root) {
        pw = getpwnam(video_worker_conf.media_user);

        if (pw == NULL) {
            snprintf(video_sandbox.error, sizeof(video_sandbox.error),
                     "media_user \"%s\" does not exist (scripts/deps.sh "
                     "creates video-media)", video_worker_conf.media_user);
            goto done;
        }

        if (pw->pw_uid == 0 || pw->pw_gid == 0) {
            snprintf(video_sandbox.error, sizeof(video_sandbox.error),
                     "media_user \"%s\" is root",
                     video_worker_conf.media_user);
            goto done;
        }

        video_sandbox.uid = pw->pw_uid;
        video_sandbox.gid = pw->pw_gid;

    } else {

        /* the command's user is the worker's: only Landlock keeps the
           worker's files from it */

        if (video_sandbox.landlock == 0) {
            snprintf(video_sandbox.error, sizeof(video_sandbox.error),
                     "the worker is not root and this kernel has no "
                     "Landlock, so ffmpeg could read what the worker can "
                     "(media_sandbox = off runs it unsandboxed)");
            goto done;
        }

        video_sandbox.uid = video_sandbox.outer_uid;
        video_sandbox.gid = video_sandbox.outer_gid;
    }

    snprintf(video_sandbox.summary, sizeof(video_sandbox.summary),
             "%s%s, network/PID/IPC namespaces, %s, %s; limits: %s",
             video_sandbox.root ? "user " : "the worker's user in a user "
                                           "namespace",
             video_sandbox.root ? video_worker_conf.media_user : "",
             video_sandbox.landlock ? "Landlock" : "no Landlock (the user "
                                                   "alone keeps files)",
#ifdef VIDEO_SANDBOX_ARCH
             "seccomp",
#else
             "no seccomp (not built for this architecture)",
#endif
             limits);

done:

    if (video_sandbox.error[0] != '\0') {
        snprintf(summary, size, "%s", video_sandbox.error);
        return -1;
    }

    if (video_sandbox.landlock > 0 && !video_sandbox.off) {
        snprintf(summary, size, "%s (Landlock ABI %d)", video_sandbox.summary,
                 video_sandbox.landlock);

    } else {
        snprintf(summary, size, "%s", video_sandbox.summary);
    }

    return 0;
}


/* -- in the worker ------------------------------------------------------- */

int
video_sandbox_start(video_sandbox_t *sb, const char *dir, char *const *argv,
    int out_fd, int err_fd, char *err, size_t size)
{
    int                  fds[2], flags;
    char                 why[256];
    video_sandbox_run_t  run;

    sb->pid = -1;
    sb->report = -1;

    if (video_sandbox_check(why, sizeof(why)) != 0) {
        snprintf(err, size, "cannot make the media sandbox: %s", why);
        return -1;
    }

    if (pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(err, size, "pipe() failed: %s", strerror(errno));
        return -1;
    }

    run.dir = dir;
    run.argv = argv;
    run.out_fd = out_fd;
    run.err_fd = err_fd;
    run.report_fd = fds[1];

    if (video_sandbox.off) {
        sb->pid = fork();

        if (sb->pid == 0) {
            if (video_sandbox_fds(&run) != 0) {
                video_sandbox_report(run.report_fd, VIDEO_SANDBOX_SETUP,
                                     VIDEO_STEP_FDS, errno);
                _exit(127);
            }

            video_sandbox_exec(&run);
        }

    } else {
        flags = CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | SIGCHLD;

        if (!video_sandbox.root) {
            flags |= CLONE_NEWUSER;
        }

        sb->pid = clone(video_sandbox_init,
                        video_sandbox_stack + sizeof(video_sandbox_stack),
                        flags, &run);
    }

    close(fds[1]);

    if (sb->pid < 0) {
        snprintf(err, size, "cannot make the media sandbox: %s: %s",
                 video_sandbox.off ? "fork()" : "clone()", strerror(errno));
        close(fds[0]);
        return -1;
    }

    sb->report = fds[0];

    return 0;
}


void
video_sandbox_kill(video_sandbox_t *sb, int signo)
{
    if (sb->pid > 0) {
        kill(sb->pid, signo);
    }
}


int
video_sandbox_wait(video_sandbox_t *sb, const char *errlog, int *status,
    char *why, size_t size)
{
    int                     st, have_done, failed, signo;
    long                    cpu_ms, vm_kb, limit_kb;
    ssize_t                 n;
    struct rusage           ru;
    video_sandbox_report_t  r, done, fail;

    why[0] = '\0';
    *status = 0;
    sb->cpu_ms = 0;
    sb->vm_kb = 0;

    while (wait4(sb->pid, &st, 0, &ru) < 0) {
        if (errno != EINTR) {
            snprintf(why, size, "waitpid() failed: %s", strerror(errno));
            close(sb->report);
            return VIDEO_SANDBOX_ERROR;
        }
    }

    have_done = 0;
    failed = 0;

    memset(&done, 0, sizeof(done));
    memset(&fail, 0, sizeof(fail));

    for ( ;; ) {
        n = read(sb->report, &r, sizeof(r));

        if (n < 0 && errno == EINTR) {
            continue;
        }

        if (n != sizeof(r)) {
            break;
        }

        if (r.what == VIDEO_SANDBOX_DONE) {
            done = r;
            have_done = 1;

        } else if (!failed) {
            fail = r;
            failed = 1;
        }
    }

    close(sb->report);
    sb->report = -1;
    sb->pid = -1;

    if (failed && fail.what == VIDEO_SANDBOX_SETUP) {
        snprintf(why, size, "cannot make the media sandbox: %s: %s",
                 (size_t) fail.step < sizeof(video_sandbox_steps)
                                      / sizeof(video_sandbox_steps[0])
                 ? video_sandbox_steps[fail.step] : "?",
                 strerror(fail.err));
        return VIDEO_SANDBOX_ERROR;
    }

    if (failed && fail.what == VIDEO_SANDBOX_EXEC) {
        snprintf(why, size, "%s", strerror(fail.err));
        return VIDEO_SANDBOX_ERROR;
    }

    if (have_done) {
        st = done.status;
        cpu_ms = done.cpu_ms;
        vm_kb = done.vm_kb;

    } else {
        /* no sandbox (its own process), or the init process killed */
        cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000
                 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
        vm_kb = 0;
    }

    *status = st;
    sb->cpu_ms = cpu_ms;
    sb->vm_kb = vm_kb;

    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        return VIDEO_SANDBOX_OK;
    }

    signo = WIFSIGNALED(st) ? WTERMSIG(st) : 0;

    if (video_worker_conf.media_cpu_seconds > 0
        && (signo == SIGXCPU
            || cpu_ms >= video_worker_conf.media_cpu_seconds * 1000L))
    {
        snprintf(why, size, "exceeded the CPU time limit of %d s "
                 "(media_cpu_seconds)", video_worker_conf.media_cpu_seconds);
        return VIDEO_SANDBOX_LIMIT;
    }

    if (video_worker_conf.media_file_mb > 0 && signo == SIGXFSZ) {
        snprintf(why, size, "exceeded the file size limit of %d MB "
                 "(media_file_mb)", video_worker_conf.media_file_mb);
        return VIDEO_SANDBOX_LIMIT;
    }

    /* an allocation failed: the command said so, or it had come within
       a quarter of the limit */

    limit_kb = (long) video_worker_conf.media_memory_mb * 1024;

    if (limit_kb > 0
        && (vm_kb >= limit_kb - limit_kb / 4
            || video_sandbox_no_memory(errlog)))
    {
        snprintf(why, size, "exceeded the memory limit of %d MB "
                 "(media_memory_mb)", video_worker_conf.media_memory_mb);
        return VIDEO_SANDBOX_LIMIT;
    }

    if (signo != 0) {
        snprintf(why, size, "killed by signal %d (%s)", signo,
                 strsignal(signo));
    }

    return VIDEO_SANDBOX_FAILED;
}


/*
 * "video-worker sandbox <dir> -- <command> [args...]": the command in the
 * sandbox a transcode runs in, working in dir, writing only in dir/out,
 * stdout and stderr the worker's; for operators and tests.  The exit
 * status is the command's (128 + a signal), 126 when no sandbox could be
 * made, 127 when the command could not run.
 */

int
video_worker_sandbox(const char *dir, char **argv)
{
    int              rc, status;
    char             why[512];
    video_sandbox_t  sb;

    if (video_sandbox_check(why, sizeof(why)) != 0) {
        video_worker_log("no media sandbox: %s", why);
        return 126;
    }

    video_worker_log("media sandbox: %s", why);

    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        video_worker_log("cannot create \"%s\": %s", dir, strerror(errno));
        return 126;
    }

    if (video_sandbox_prepare(dir, why, sizeof(why)) != 0
        || video_sandbox_start(&sb, dir, argv, STDOUT_FILENO, STDERR_FILENO,
                               why, sizeof(why))
           != 0)
    {
        video_worker_log("%s", why);
        return 126;
    }

    rc = video_sandbox_wait(&sb, NULL, &status, why, sizeof(why));

    switch (rc) {

    case VIDEO_SANDBOX_OK:
        return 0;

    case VIDEO_SANDBOX_ERROR:
        video_worker_log("%s: %s", argv[0], why);
        return strstr(why, "media sandbox") ? 126 : 127;

    default:
        if (why[0] != '\0') {
            video_worker_log("%s: %s", argv[0], why);
        }

        return WIFEXITED(status) ? WEXITSTATUS(status)
                                 : 128 + WTERMSIG(status);
    }
}
