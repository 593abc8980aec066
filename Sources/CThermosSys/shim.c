#ifndef _GNU_SOURCE
#error "_GNU_SOURCE must be set through cSettings"
#endif
#include "CThermosSys.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

int cthermos_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }

int cthermos_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

int cthermos_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

const short cthermos_POSIX_SPAWN_SETSID = POSIX_SPAWN_SETSID;

int cthermos_spawnattr_clean_signals(posix_spawnattr_t *attributes, const int *blocked, int blocked_count, short flags) {
    sigset_t mask, defaults;
    sigemptyset(&mask);
    for (int i = 0; i < blocked_count; i++) sigaddset(&mask, blocked[i]);
    sigfillset(&defaults);
    sigdelset(&defaults, SIGKILL);
    sigdelset(&defaults, SIGSTOP);
    int result = posix_spawnattr_setsigmask(attributes, &mask);
    if (result == 0) result = posix_spawnattr_setsigdefault(attributes, &defaults);
    if (result == 0) result = posix_spawnattr_setflags(attributes, (short)(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | flags));
    return result;
}

int cthermos_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int cthermos_epoll_add(int epfd, int fd, uint64_t token) {
    struct epoll_event event = {0};
    event.events = EPOLLIN;
    event.data.u64 = token;
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
}

int cthermos_epoll_remove(int epfd, int fd) { return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL); }

int cthermos_accept_nonblocking(int fd) { return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC); }

int cthermos_peer_uid(int fd, uint32_t *uid) {
    struct ucred credentials;
    socklen_t length = sizeof(credentials);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return -1;
    *uid = credentials.uid;
    return 0;
}

int cthermos_epoll_add_writable(int epfd, int fd, uint64_t token) {
    struct epoll_event event = {0};
    event.events = EPOLLOUT;
    event.data.u64 = token;
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
}

int cthermos_epoll_modify_readable(int epfd, int fd, uint64_t token) {
    struct epoll_event event = {0};
    event.events = EPOLLIN | EPOLLRDHUP;
    event.data.u64 = token;
    return epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &event);
}

int cthermos_epoll_wait(int epfd, uint64_t *tokens, int capacity, int timeout_ms) {
    struct epoll_event events[64];
    if (capacity > 64) capacity = 64;
    int count = epoll_wait(epfd, events, capacity, timeout_ms);
    for (int i = 0; i < count; i++) tokens[i] = events[i].data.u64;
    return count;
}

int cthermos_signalfd(const sigset_t *mask) { return signalfd(-1, mask, SFD_NONBLOCK | SFD_CLOEXEC); }

int cthermos_signalfd_read(int fd) {
    struct signalfd_siginfo info;
    ssize_t count = read(fd, &info, sizeof(info));
    if (count == (ssize_t)sizeof(info)) return (int)info.ssi_signo;
    if (count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    return -1;
}

int cthermos_timerfd_create(void) { return timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC); }

int cthermos_timerfd_arm(int fd, double seconds) {
    struct itimerspec spec = {0};
    if (seconds > 0) {
        if (seconds > 1e9) seconds = 1e9;
        double whole = floor(seconds);
        spec.it_value.tv_sec = (time_t)whole;
        spec.it_value.tv_nsec = (long)((seconds - whole) * 1e9);
        if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;
    }
    return timerfd_settime(fd, 0, &spec, NULL);
}

uint64_t cthermos_timerfd_drain(int fd) {
    uint64_t expirations = 0;
    if (read(fd, &expirations, sizeof(expirations)) != (ssize_t)sizeof(expirations)) return 0;
    return expirations;
}

int cthermos_eventfd(void) { return eventfd(0, EFD_CLOEXEC); }

int cthermos_seqpacket_pair(int fds[2]) { return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds); }

enum { cthermos_max_passed_fds = 64 };

int cthermos_send_with_fds(int socket, const void *data, size_t length, const int *fds, int count) {
    if (count < 0 || count > cthermos_max_passed_fds) return EINVAL;
    struct iovec vector = { (void *)data, length };
    union { struct cmsghdr header; char space[CMSG_SPACE(sizeof(int) * cthermos_max_passed_fds)]; } control;
    memset(&control, 0, sizeof(control));
    struct msghdr message = {0};
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    if (count > 0) {
        message.msg_control = control.space;
        message.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)count);
        struct cmsghdr *header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)count);
        memcpy(CMSG_DATA(header), fds, sizeof(int) * (size_t)count);
    }
    ssize_t sent;
    do { sent = sendmsg(socket, &message, MSG_NOSIGNAL); } while (sent < 0 && errno == EINTR);
    return sent < 0 ? errno : 0;
}

long cthermos_receive_with_fds(int socket, void *buffer, size_t capacity, int *fds, int capacity_fds, int *count, int *truncated) {
    struct iovec vector = { buffer, capacity };
    union { struct cmsghdr header; char space[CMSG_SPACE(sizeof(int) * cthermos_max_passed_fds)]; } control;
    struct msghdr message = {0};
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    message.msg_control = control.space;
    message.msg_controllen = sizeof(control.space);
    *count = 0;
    *truncated = 0;
    ssize_t received;
    do { received = recvmsg(socket, &message, MSG_CMSG_CLOEXEC); } while (received < 0 && errno == EINTR);
    if (received < 0) return -1;
    if (message.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) *truncated = 1;
    for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header; header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
        size_t passed = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < passed; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(header) + i * sizeof(int), sizeof(int));
            if (*count < capacity_fds) fds[(*count)++] = fd;
            else close(fd);
        }
    }
    return (long)received;
}

int cthermos_wait_readable(int fd, int timeout_ms) {
    struct pollfd entry = { fd, POLLIN, 0 };
    int result;
    do { result = poll(&entry, 1, timeout_ms); } while (result < 0 && errno == EINTR);
    return result;
}

int cthermos_close_from(int first) { return (int)syscall(SYS_close_range, (unsigned)first, ~0U, 0); }

int cthermos_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

int cthermos_pidfd_send_signal(int pidfd, int sig) { return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0); }

int cthermos_set_child_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

int cthermos_set_parent_death_signal(int sig) { return prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0); }

int cthermos_wait_return_code(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return -WTERMSIG(status);
    return -1;
}
