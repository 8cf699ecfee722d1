//go:build linux || darwin || freebsd

package record

import "golang.org/x/sys/unix"

// freeSpace returns the bytes available to an unprivileged user on the
// file system holding dir; ok is false when they cannot be known (dir
// removed meanwhile, say).
func freeSpace(dir string) (free int64, ok bool) {
	var st unix.Statfs_t
	if unix.Statfs(dir, &st) != nil {
		return 0, false
	}
	return int64(st.Bavail) * int64(st.Bsize), true
}
