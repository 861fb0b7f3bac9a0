/*
 * What the media sandbox's files share: what the sandbox is made of
 * (decided in worker_sandbox.c), one run as the init process gets it and
 * what it reports, and what each file gives the others: the namespaces'
 * processes (worker_sandbox_init.c), the resource limits
 * (worker_sandbox_limits.c), Landlock (worker_sandbox_landlock.c) and
 * the seccomp filter (worker_sandbox_seccomp.c).
 */

#ifndef _WORKER_SANDBOX_H_INCLUDED_
#define _WORKER_SANDBOX_H_INCLUDED_


#include <sys/types.h>

#include <linux/audit.h>

#include "video_worker.h"


#if defined(__x86_64__)
#define VIDEO_SANDBOX_ARCH  AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define VIDEO_SANDBOX_ARCH  AUDIT_ARCH_AARCH64
#endif


/* what the init process reports */

#define VIDEO_SANDBOX_SETUP  1      /* a step failed: step, err */
#define VIDEO_SANDBOX_EXEC   2      /* the command could not run: err */
#define VIDEO_SANDBOX_DONE   3      /* the command ended: status, cpu_ms,
                                       vm_kb */

typedef struct {
    int    what;
    int    step;
    int    err;
    int    status;
    long   cpu_ms;
    long   vm_kb;                 /* its peak address space, as sampled */
} video_sandbox_report_t;

/* in the order of their names in worker_sandbox.c */
enum {
    VIDEO_STEP_FDS = 0, VIDEO_STEP_MAPS, VIDEO_STEP_FORK, VIDEO_STEP_LIMITS,
    VIDEO_STEP_CHDIR, VIDEO_STEP_LANDLOCK, VIDEO_STEP_NNP, VIDEO_STEP_GROUPS,
    VIDEO_STEP_USER, VIDEO_STEP_SECCOMP, VIDEO_STEP_SIGNALS
};


/* what the sandbox is made of, decided once */

typedef struct {
    int     checked;
    int     off;                 /* media_sandbox = off */
    int     root;                /* a separate user; else a user ns */
    uid_t   uid;                 /* the command's user */
    gid_t   gid;
    uid_t   outer_uid;           /* the worker's, for the user ns maps */
    gid_t   outer_gid;
    int     landlock;            /* Landlock ABI, 0: none */
    char    error[256];          /* why no sandbox can be made */
    char    summary[512];
} video_sandbox_state_t;

extern video_sandbox_state_t  video_sandbox;


/* one run: what the clone()d init process works from */

typedef struct {
    const char    *dir;
    char *const   *argv;
    int            out_fd;
    int            err_fd;
    int            report_fd;
} video_sandbox_run_t;


/* worker_sandbox_init.c: in the sandbox's processes */
void video_sandbox_report(int fd, int what, int step, int err);
int video_sandbox_fds(video_sandbox_run_t *run);
void video_sandbox_exec(video_sandbox_run_t *run);
int video_sandbox_init(void *data);

/* worker_sandbox_limits.c: set in the command's process, sampled by the
   init process, told from stderr by the worker */
int video_sandbox_limits(void);
long video_sandbox_vm_peak(long *host_pid);
int video_sandbox_no_memory(const char *errlog);

/* worker_sandbox_landlock.c */
int video_sandbox_landlock_abi(void);
int video_sandbox_landlock(void);

/* worker_sandbox_seccomp.c */
#ifdef VIDEO_SANDBOX_ARCH
int video_sandbox_seccomp(void);
#endif


#endif /* _WORKER_SANDBOX_H_INCLUDED_ */
