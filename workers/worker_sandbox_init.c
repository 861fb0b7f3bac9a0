/*
 * The sandbox's processes: the init process, PID 1 of the new namespaces,
 * which maps the user namespace, forks the command's process, samples
 * its address space, reaps it and reports its end; and the command's
 * process, which confines itself (worker_sandbox_limits.c, _landlock.c,
 * _seccomp.c), takes the media user and execs the command.  Both are
 * copies of the worker made by clone() and fork(): no allocation, no
 * stdio in them.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "worker_sandbox.h"


/* the command, to which the init process forwards SIGTERM */
static volatile pid_t  video_sandbox_child;


void
video_sandbox_report(int fd, int what, int step, int err)
{
    ssize_t                 n;
    video_sandbox_report_t  r;

    memset(&r, 0, sizeof(r));
    r.what = what;
    r.step = step;
    r.err = err;

    n = write(fd, &r, sizeof(r));
    (void) n;
}


static void
video_sandbox_forward(int signo)
{
    if (video_sandbox_child > 0) {
        kill(video_sandbox_child, signo);
    }
}


/* stdin /dev/null, stdout and stderr, the report on 3, nothing else */

int
video_sandbox_fds(video_sandbox_run_t *run)
{
    int  r, o, e, n, fd;

    r = fcntl(run->report_fd, F_DUPFD_CLOEXEC, 10);
    o = fcntl(run->out_fd, F_DUPFD, 10);
    e = fcntl(run->err_fd, F_DUPFD, 10);
    n = open("/dev/null", O_RDWR);

    if (r < 0 || o < 0 || e < 0 || n < 0
        || dup2(n, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0
        || dup2(r, 3) < 0 || fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
    {
        return -1;
    }

    run->report_fd = 3;

    if (close_range(4, ~0U, 0) != 0) {
        for (fd = 4; fd < 65536; fd++) {
            close(fd);
        }
    }

    return 0;
}


static int
video_sandbox_map(const char *file, const char *map)
{
    int      fd;
    ssize_t  n;
    size_t   len;

    fd = open(file, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }

    len = strlen(map);
    n = write(fd, map, len);
    close(fd);

    return n == (ssize_t) len ? 0 : -1;
}


/* maps the worker's user and group into the new user namespace */

static int
video_sandbox_maps(void)
{
    char  map[64];

    if (video_sandbox_map("/proc/self/setgroups", "deny") != 0) {
        return -1;
    }

    snprintf(map, sizeof(map), "%u %u 1\n", (unsigned) video_sandbox.uid,
             (unsigned) video_sandbox.outer_uid);

    if (video_sandbox_map("/proc/self/uid_map", map) != 0) {
        return -1;
    }

    snprintf(map, sizeof(map), "%u %u 1\n", (unsigned) video_sandbox.gid,
             (unsigned) video_sandbox.outer_gid);

    return video_sandbox_map("/proc/self/gid_map", map);
}


/*
 * The init process runs on a stack of its own (clone()), which
 * AddressSanitizer does not know: its bookkeeping before a call that does
 * not return (_exit) would warn of false positives to come.  The two
 * functions that run on that stack and make such calls are left out of
 * its instrumentation (their callees are not).
 */
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 8)
#define VIDEO_SANDBOX_OWN_STACK  __attribute__((no_sanitize("address")))
#else
#define VIDEO_SANDBOX_OWN_STACK
#endif


/* the command's process: confine, then exec */

VIDEO_SANDBOX_OWN_STACK
void
video_sandbox_exec(video_sandbox_run_t *run)
{
    int               step, signo;
    sigset_t          all;
    struct sigaction  sa;

    static char  *env[] = { "PATH=/usr/local/bin:/usr/bin:/bin", NULL };

    step = VIDEO_STEP_SIGNALS;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;

    for (signo = 1; signo < NSIG; signo++) {
        if (signo != SIGKILL && signo != SIGSTOP) {
            sigaction(signo, &sa, NULL);
        }
    }

    sigemptyset(&all);
    if (sigprocmask(SIG_SETMASK, &all, NULL) != 0) {
        goto failed;
    }

    step = VIDEO_STEP_LIMITS;
    if (video_sandbox_limits() != 0) {
        goto failed;
    }

    step = VIDEO_STEP_CHDIR;
    if (chdir(run->dir) != 0) {
        goto failed;
    }

    if (!video_sandbox.off) {
        step = VIDEO_STEP_NNP;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
            goto failed;
        }

        step = VIDEO_STEP_LANDLOCK;
        if (video_sandbox_landlock() != 0) {
            goto failed;
        }

        if (video_sandbox.root) {
            step = VIDEO_STEP_GROUPS;
            if (setgroups(0, NULL) != 0
                || setresgid(video_sandbox.gid, video_sandbox.gid,
                             video_sandbox.gid) != 0)
            {
                goto failed;
            }

            step = VIDEO_STEP_USER;
            if (setresuid(video_sandbox.uid, video_sandbox.uid,
                          video_sandbox.uid) != 0
                || setuid(0) == 0)
            {
                goto failed;
            }
        }

#ifdef VIDEO_SANDBOX_ARCH
        step = VIDEO_STEP_SECCOMP;
        if (video_sandbox_seccomp() != 0) {
            goto failed;
        }
#endif
    }

    environ = env;
    execvp(run->argv[0], run->argv);

    video_sandbox_report(run->report_fd, VIDEO_SANDBOX_EXEC, 0, errno);
    _exit(127);

failed:

    video_sandbox_report(run->report_fd, VIDEO_SANDBOX_SETUP, step, errno);
    _exit(127);
}


/* the init process of the namespaces */

VIDEO_SANDBOX_OWN_STACK
int
video_sandbox_init(void *data)
{
    int                      status, step, execd[2];
    char                     c;
    long                     vm, host_pid;
    pid_t                    pid, done;
    struct rusage            ru;
    struct timespec          ts;
    struct sigaction         sa;
    video_sandbox_run_t     *run = data;
    video_sandbox_report_t   r;

    /* the worker gone, the sandbox goes: its init's death kills the rest */

    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

    step = VIDEO_STEP_FDS;
    if (video_sandbox_fds(run) != 0) {
        goto failed;
    }

    step = VIDEO_STEP_MAPS;
    if (!video_sandbox.root && video_sandbox_maps() != 0) {
        goto failed;
    }

    /* PID 1 gets only the signals it handles: SIGTERM goes on */

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = video_sandbox_forward;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    /*
     * the command's exec closes this pipe: until then the process is a
     * copy of this one, whose address space is not the command's
     */

    step = VIDEO_STEP_FORK;
    if (pipe2(execd, O_CLOEXEC) != 0) {
        goto failed;
    }

    pid = fork();

    if (pid < 0) {
        goto failed;
    }

    if (pid == 0) {
        close(execd[0]);
        video_sandbox_exec(run);
    }

    video_sandbox_child = pid;

    close(execd[1]);
    (void) fcntl(execd[0], F_SETFL, O_NONBLOCK);

    /* waits, sampling the command's address space every 20 ms */

    memset(&r, 0, sizeof(r));
    host_pid = 0;
    ts.tv_sec = 0;
    ts.tv_nsec = 20000000;

    for ( ;; ) {
        done = wait4(pid, &status, WNOHANG, &ru);

        if (done == pid) {
            break;
        }

        if (done < 0 && errno != EINTR) {
            goto failed;
        }

        if (execd[0] != -1 && read(execd[0], &c, 1) == 0) {
            close(execd[0]);
            execd[0] = -1;
        }

        vm = (execd[0] == -1) ? video_sandbox_vm_peak(&host_pid) : 0;
        if (vm > r.vm_kb) {
            r.vm_kb = vm;
        }

        nanosleep(&ts, NULL);
    }

    r.what = VIDEO_SANDBOX_DONE;
    r.status = status;
    r.cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000
               + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;

    if (write(run->report_fd, &r, sizeof(r)) != sizeof(r)) {
        _exit(126);
    }

    _exit(0);

failed:

    video_sandbox_report(run->report_fd, VIDEO_SANDBOX_SETUP, step, errno);
    _exit(127);
}
