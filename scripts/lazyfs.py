#!/usr/bin/python3
"""A FUSE filesystem that loses power on demand (the idea of Jepsen's LazyFS), for tests.

    lazyfs.py BACKING MOUNTPOINT [--fail SUBSTRING:ERRNAME]... [--seed N] [--torn]

Every file's data lives in the daemon's memory from its first write until the file is fsync'd
or fdatasync'd; only then is it written (atomically: temp file, fsync, rename) to BACKING.
Metadata operations (create, mkdir, rename, unlink) reach BACKING at once, as on a filesystem
mounted with dirsync.

Control files (created in the mount, e.g. `touch MOUNT/.lazyfs-cut`):
  .lazyfs-cut    power cut: pending data is discarded (with --torn, a random prefix of each
                 file's pending writes, possibly ending inside one, reaches BACKING first, as a
                 disk that wrote part of its queue would), a JSON report is written to
                 BACKING/.lazyfs-report.json, and the daemon exits: the mount is dead.
  .lazyfs-heal   clears every --fail rule.

--fail SUBSTRING:ERRNAME makes every write to a path containing SUBSTRING fail with that errno
(ENOSPC, EIO, EDQUOT, EROFS, ...): a full disk for one file, without filling a real one.

Needs Debian's python3-fusepy (libfuse2) and /dev/fuse; run as root.
"""
import errno
import json
import os
import random
import stat
import sys
import threading

from fusepy import FUSE, FuseOSError, Operations

CONTROL = {"/.lazyfs-cut", "/.lazyfs-heal"}


class PendingFile:
    """The data of one file since its last sync: the whole current view plus the writes made."""

    def __init__(self, durable):
        self.view = bytearray(durable)
        self.durable_length = len(durable)
        self.ops = []  # ("write", offset, bytes) | ("truncate", length), in order


class LazyFS(Operations):
    def __init__(self, backing, failures, seed, torn):
        self.backing = os.path.realpath(backing)
        self.failures = failures
        self.random = random.Random(seed)
        self.torn = torn
        self.pending = {}  # path -> PendingFile
        self.handles = {}  # fh -> (path, append)
        self.next_handle = 1
        self.mutex = threading.RLock()
        self.syncs = {}  # path -> number of syncs that persisted data

    # -- helpers

    def real(self, path):
        return self.backing + path

    def load(self, path):
        entry = self.pending.get(path)
        if entry is None:
            with open(self.real(path), "rb") as handle:
                entry = PendingFile(handle.read())
            self.pending[path] = entry
        return entry

    def check_fault(self, path):
        for substring, code in self.failures:
            if substring in path:
                raise FuseOSError(code)

    def persist(self, path, data):
        temporary = self.real(path) + ".lazyfs-tmp"
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(temporary, self.real(path))

    def cut(self):
        report = {}
        for path, entry in sorted(self.pending.items()):
            durable = bytearray(entry.view) if not entry.ops else None
            kept = 0
            if entry.ops and os.path.exists(self.real(path)):
                with open(self.real(path), "rb") as handle:
                    durable = bytearray(handle.read())
                if self.torn:
                    count = self.random.randint(0, len(entry.ops))
                    for index, op in enumerate(entry.ops[:count + 1]):
                        if op[0] == "truncate":
                            if index < count:
                                del durable[op[1]:]
                            continue
                        offset, data = op[1], op[2]
                        if index == count:
                            data = data[:self.random.randint(0, len(data))]
                        if len(durable) < offset:
                            durable.extend(b"\0" * (offset - len(durable)))
                        durable[offset:offset + len(data)] = data
                    kept = len(durable)
                    self.persist(path, bytes(durable))
            report[path] = {
                "written": len(entry.view),
                "synced": entry.durable_length,
                "after_cut": len(durable) if durable is not None else len(entry.view),
                "pending_ops": len(entry.ops),
                "torn_kept": kept,
            }
        with open(self.backing + "/.lazyfs-report.json", "w") as handle:
            json.dump(report, handle, indent=1, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os._exit(0)

    # -- metadata

    def getattr(self, path, fh=None):
        if path in CONTROL:
            raise FuseOSError(errno.ENOENT)
        with self.mutex:
            info = os.lstat(self.real(path))
            result = {key: getattr(info, key) for key in (
                "st_mode", "st_nlink", "st_uid", "st_gid", "st_size", "st_atime", "st_mtime", "st_ctime")}
            entry = self.pending.get(path)
            if entry is not None and stat.S_ISREG(info.st_mode):
                result["st_size"] = len(entry.view)
            return result

    def readdir(self, path, fh):
        return [".", ".."] + [name for name in os.listdir(self.real(path))
                              if not name.endswith(".lazyfs-tmp") and name != ".lazyfs-report.json"]

    def access(self, path, mode):
        if not os.access(self.real(path), mode):
            raise FuseOSError(errno.EACCES)

    def chmod(self, path, mode):
        os.chmod(self.real(path), mode)

    def chown(self, path, uid, gid):
        os.lchown(self.real(path), uid, gid)

    def utimens(self, path, times=None):
        os.utime(self.real(path), times, follow_symlinks=False)

    def readlink(self, path):
        return os.readlink(self.real(path))

    def symlink(self, target, source):
        os.symlink(source, self.real(target))

    def mkdir(self, path, mode):
        os.mkdir(self.real(path), mode)

    def rmdir(self, path):
        os.rmdir(self.real(path))

    def unlink(self, path):
        with self.mutex:
            os.unlink(self.real(path))
            self.pending.pop(path, None)

    def rename(self, old, new):
        with self.mutex:
            os.rename(self.real(old), self.real(new))
            if old in self.pending:
                self.pending[new] = self.pending.pop(old)
            else:
                self.pending.pop(new, None)

    def statfs(self, path):
        info = os.statvfs(self.real(path))
        return {key: getattr(info, key) for key in (
            "f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail", "f_ffree", "f_files", "f_flag",
            "f_frsize", "f_namemax")}

    # -- data

    def open_handle(self, path, flags):
        with self.mutex:
            handle = self.next_handle
            self.next_handle += 1
            self.handles[handle] = (path, bool(flags & os.O_APPEND))
            if flags & os.O_TRUNC:
                self.truncate(path, 0)
            return handle

    def create(self, path, mode, fi=None):
        if path == "/.lazyfs-cut":
            with self.mutex:
                self.cut()
        if path == "/.lazyfs-heal":
            self.failures = []
            raise FuseOSError(errno.ECANCELED)
        with self.mutex:
            os.close(os.open(self.real(path), os.O_WRONLY | os.O_CREAT, mode))
            self.pending.pop(path, None)
            return self.open_handle(path, os.O_WRONLY)

    def open(self, path, flags):
        return self.open_handle(path, flags)

    def read(self, path, size, offset, fh):
        with self.mutex:
            entry = self.pending.get(path)
            if entry is not None:
                return bytes(entry.view[offset:offset + size])
            with open(self.real(path), "rb") as handle:
                handle.seek(offset)
                return handle.read(size)

    def write(self, path, data, offset, fh):
        with self.mutex:
            self.check_fault(path)
            entry = self.load(path)
            if self.handles.get(fh, (path, False))[1]:
                offset = len(entry.view)
            if len(entry.view) < offset:
                entry.view.extend(b"\0" * (offset - len(entry.view)))
            entry.view[offset:offset + len(data)] = data
            entry.ops.append(("write", offset, bytes(data)))
            return len(data)

    def truncate(self, path, length, fh=None):
        with self.mutex:
            self.check_fault(path)
            entry = self.load(path)
            del entry.view[length:]
            if len(entry.view) < length:
                entry.view.extend(b"\0" * (length - len(entry.view)))
            entry.ops.append(("truncate", length))

    def fsync(self, path, datasync, fh):
        with self.mutex:
            entry = self.pending.get(path)
            if entry is None or not entry.ops:
                return 0
            self.persist(path, bytes(entry.view))
            entry.durable_length = len(entry.view)
            entry.ops = []
            self.syncs[path] = self.syncs.get(path, 0) + 1
            return 0

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        with self.mutex:
            self.handles.pop(fh, None)
        return 0


def main(arguments):
    failures, seed, torn, positional = [], None, False, []
    index = 0
    while index < len(arguments):
        argument = arguments[index]
        if argument == "--fail":
            substring, name = arguments[index + 1].rsplit(":", 1)
            failures.append((substring, getattr(errno, name)))
            index += 2
        elif argument == "--seed":
            seed = int(arguments[index + 1])
            index += 2
        elif argument == "--torn":
            torn = True
            index += 1
        else:
            positional.append(argument)
            index += 1
    if len(positional) != 2:
        sys.exit(__doc__)
    backing, mountpoint = positional
    FUSE(LazyFS(backing, failures, seed, torn), mountpoint, foreground=True, nothreads=True,
         direct_io=True, attr_timeout=0, entry_timeout=0, negative_timeout=0, fsname="lazyfs")


if __name__ == "__main__":
    main(sys.argv[1:])
