package auth

import (
	"io/fs"
	"syscall"
)

// stampOf identifies a version of a file. Kubernetes updates a mounted Secret by swapping a
// symlink, so the inode (of the file os.Stat follows to) changes even when mtime and size do not.
func stampOf(fi fs.FileInfo) fileStamp {
	s := fileStamp{mtime: fi.ModTime(), size: fi.Size()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.ino = st.Ino
	}
	return s
}
