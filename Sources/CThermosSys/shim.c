#include "CThermosSys.h"

#include <fcntl.h>
#include <unistd.h>

int cthermos_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }

int cthermos_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

int cthermos_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

const short cthermos_POSIX_SPAWN_SETSID = POSIX_SPAWN_SETSID;
