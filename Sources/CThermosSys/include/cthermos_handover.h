#ifndef C_THERMOS_HANDOVER_H
#define C_THERMOS_HANDOVER_H

// The hand-over from `thermos` to `thermos-runner` (an inherited, sealed memfd) and the
// runner's process name. GNU extensions: implemented in handover.c with _GNU_SOURCE.

/// memfd_create(2) with MFD_ALLOW_SEALING (close-on-exec unless `inheritable`); -1 and errno on failure.
int cthermos_memfd_create_sealable(const char *name, int inheritable);
/// Seals a memfd against every change (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE).
int cthermos_memfd_seal(int fd);
/// 1 if `fd` carries F_SEAL_WRITE and F_SEAL_SHRINK (its content can no longer change), 0 if not (or not a memfd), -1 and errno on failure.
int cthermos_memfd_is_sealed(int fd);
/// prctl(PR_SET_NAME, name): the process name `ps -C`, `pgrep` and /proc/<pid>/comm show.
int cthermos_set_process_name(const char *name);

#endif
