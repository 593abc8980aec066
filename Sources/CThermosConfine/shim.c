#include "CThermosConfine.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

const int cthermos_O_PATH = O_PATH;

const uint64_t cthermos_RESOLVE_BENEATH_NO_MAGICLINKS = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;

int cthermos_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve) {
    struct open_how how = {.flags = flags, .mode = 0, .resolve = resolve};
    long result;
    do {
        result = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    } while (result < 0 && errno == EINTR);
    return (int)result;
}

int cthermos_rename_exchange(int olddirfd, const char *oldpath, int newdirfd, const char *newpath) {
    return (int)syscall(SYS_renameat2, olddirfd, oldpath, newdirfd, newpath, RENAME_EXCHANGE);
}
