#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "cthermos_handover.h"

int cthermos_memfd_create_sealable(const char *name, int inheritable) {
    return memfd_create(name, MFD_ALLOW_SEALING | (inheritable ? 0 : MFD_CLOEXEC));
}

int cthermos_memfd_seal(int fd) {
    return fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
}

int cthermos_memfd_is_sealed(int fd) {
    int seals = fcntl(fd, F_GET_SEALS);
    if (seals < 0) return errno == EINVAL ? 0 : -1;  // EINVAL: not a memfd at all
    return (seals & (F_SEAL_WRITE | F_SEAL_SHRINK)) == (F_SEAL_WRITE | F_SEAL_SHRINK) ? 1 : 0;
}

int cthermos_set_process_name(const char *name) { return prctl(PR_SET_NAME, name, 0, 0, 0); }
