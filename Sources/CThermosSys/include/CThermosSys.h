#ifndef C_THERMOS_SYS_H
#define C_THERMOS_SYS_H

// Syscalls and GNU extensions that Glibc does not import into Swift.
// The header stays free of _GNU_SOURCE (it is set for shim.c through cSettings).

#include <spawn.h>
#include <sys/types.h>

/// pipe2(2): a pipe whose ends get `flags` (e.g. O_CLOEXEC).
int cthermos_pipe2(int fds[2], int flags);

/// posix_spawn_file_actions_addchdir_np(3): the child changes to `path` before exec.
int cthermos_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path);

/// posix_spawn_file_actions_addclosefrom_np(3): the child closes every fd >= `from`.
int cthermos_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from);

/// The POSIX_SPAWN_SETSID flag (a GNU extension): the child starts a new session.
extern const short cthermos_POSIX_SPAWN_SETSID;

#endif
