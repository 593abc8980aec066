#ifndef C_THERMOS_CONFINE_H
#define C_THERMOS_CONFINE_H

// Path resolution that cannot leave a directory: openat2(2) (no glibc wrapper) and the
// renameat2(2) exchange the observer's race tests use. The header stays free of _GNU_SOURCE.

#include <stdint.h>

/// RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS (linux/openat2.h).
extern const uint64_t cthermos_RESOLVE_BENEATH_NO_MAGICLINKS;

/// O_PATH (a GNU flag Glibc does not import into Swift).
extern const int cthermos_O_PATH;

/// openat2(dirfd, path, {flags, mode 0, resolve}). Returns an fd or -1 with errno set
/// (ENOSYS before Linux 5.6, EXDEV for an escape, ELOOP for a link the resolve flags refuse).
int cthermos_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve);

/// renameat2(olddirfd, oldpath, newdirfd, newpath, RENAME_EXCHANGE): swaps two names atomically.
int cthermos_rename_exchange(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);

#endif
