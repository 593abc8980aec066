#ifndef C_THERMOS_SYS_H
#define C_THERMOS_SYS_H

// Syscalls and GNU extensions that Glibc does not import into Swift.
// The header stays free of _GNU_SOURCE (it is set for shim.c through cSettings).

#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/types.h>

#include "cthermos_handover.h"

/// pipe2(2): a pipe whose ends get `flags` (e.g. O_CLOEXEC).
int cthermos_pipe2(int fds[2], int flags);

/// posix_spawn_file_actions_addchdir_np(3): the child changes to `path` before exec.
int cthermos_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path);

/// posix_spawn_file_actions_addclosefrom_np(3): the child closes every fd >= `from`.
int cthermos_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from);

/// The POSIX_SPAWN_SETSID flag (a GNU extension): the child starts a new session.
extern const short cthermos_POSIX_SPAWN_SETSID;

/// Gives a child a clean signal state whatever thread spawns it (cooperative-pool and runner
/// threads block signals, and children inherit masks): every signal but SIGKILL/SIGSTOP back to
/// its default action, and a mask holding only `blocked` (NULL = empty). `flags` are added
/// (e.g. cthermos_POSIX_SPAWN_SETSID). Returns 0 or an errno.
int cthermos_spawnattr_clean_signals(posix_spawnattr_t *attributes, const int *blocked, int blocked_count, short flags);

// MARK: - epoll (struct epoll_event is packed on x86_64, so it never crosses into Swift)

/// epoll_create1(EPOLL_CLOEXEC).
int cthermos_epoll_create(void);
/// Adds `fd` for readability (EPOLLIN), tagged with `token`.
int cthermos_epoll_add(int epfd, int fd, uint64_t token);
/// Removes `fd`.
int cthermos_epoll_remove(int epfd, int fd);
/// Adds `fd` for writability (EPOLLOUT: a non-blocking connect finished), tagged with `token`.
int cthermos_epoll_add_writable(int epfd, int fd, uint64_t token);
/// Switches `fd` to readability (EPOLLIN | EPOLLRDHUP), keeping `token`.
int cthermos_epoll_modify_readable(int epfd, int fd, uint64_t token);
/// Waits up to `timeout_ms` (-1 = forever); stores up to `capacity` ready tokens; returns the count or -1.
int cthermos_epoll_wait(int epfd, uint64_t *tokens, int capacity, int timeout_ms);

/// The uid of the process at the other end of a connected unix socket (SO_PEERCRED); 0 or -1.
int cthermos_peer_uid(int fd, uint32_t *uid);
/// accept4(fd, NULL, NULL, SOCK_NONBLOCK|SOCK_CLOEXEC).
int cthermos_accept_nonblocking(int fd);

// MARK: - signalfd, timerfd

/// signalfd(-1, mask, SFD_NONBLOCK|SFD_CLOEXEC) for the signals in `mask`.
int cthermos_signalfd(const sigset_t *mask);
/// Reads one pending signal from a signalfd: its number, or 0 when none is pending, -1 on error.
int cthermos_signalfd_read(int fd);
/// timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK|TFD_CLOEXEC).
int cthermos_timerfd_create(void);
/// Arms the timer to fire once after `seconds` (<= 0 disarms it).
int cthermos_timerfd_arm(int fd, double seconds);
/// Consumes the expiration count of a fired timer (0 if none).
uint64_t cthermos_timerfd_drain(int fd);

/// eventfd(0, EFD_CLOEXEC): a counter another thread can block on.
int cthermos_eventfd(void);

// MARK: - handing a coordinator its work (SCM_RIGHTS over an AF_UNIX SOCK_SEQPACKET pair)

/// socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC).
int cthermos_seqpacket_pair(int fds[2]);
/// Sends `length` bytes and the `count` descriptors `fds` as one message. Returns 0 or an errno.
int cthermos_send_with_fds(int socket, const void *data, size_t length, const int *fds, int count);
/// Receives one message into `buffer`; stores up to `capacity_fds` passed descriptors
/// (close-on-exec) in `fds` and their number in `*count` (extra ones are closed, a truncated
/// message sets `*truncated`). Returns the byte count (0 at EOF) or -1.
long cthermos_receive_with_fds(int socket, void *buffer, size_t capacity, int *fds, int capacity_fds, int *count, int *truncated);
/// Waits up to `timeout_ms` for `fd` to become readable: 1 readable (or hung up), 0 timeout, -1 error.
int cthermos_wait_readable(int fd, int timeout_ms);
/// close_range(first, ~0U, 0): closes every descriptor >= `first`.
int cthermos_close_from(int first);

// MARK: - pidfd, prctl, wait status

/// pidfd_open(2) (flags 0); the fd is close-on-exec.
int cthermos_pidfd_open(pid_t pid);
/// pidfd_send_signal(2).
int cthermos_pidfd_send_signal(int pidfd, int sig);
/// prctl(PR_SET_CHILD_SUBREAPER, 1).
int cthermos_set_child_subreaper(void);
/// prctl(PR_SET_PDEATHSIG, sig).
int cthermos_set_parent_death_signal(int sig);

/// The exit code of a wait status as Thermos records it: the status if it exited, -signal if killed.
int cthermos_wait_return_code(int status);

#endif
