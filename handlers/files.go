package handlers

import (
	"errors"
	"fmt"
	"mime"
	"net/url"
	"os"
	"path"
	"strings"
	"time"

	"http_server/compress"
	"http_server/workers"

	"golang.org/x/sys/unix"
)

// Files opens files beneath a document root. The kernel enforces the
// containment: openat2 with RESOLVE_BENEATH refuses any path, symlink or
// ".." that would leave the root, whatever the request's spelling. Where
// the kernel lacks openat2, Go's os.Root gives the same guarantee.
type Files struct {
	rootFd int
	root   *os.Root   // fallback when openat2 is missing
	cache  *fileCache // small files' bytes (nil: off)
}

// CacheSmallFiles keeps the bytes of files up to workers.SmallFile in memory, up
// to maxBytes in all (0: off). Called before serving.
func (f *Files) CacheSmallFiles(maxBytes int64) {
	f.cache = nil
	if maxBytes > 0 {
		f.cache = newFileCache(maxBytes)
	}
}

// CacheStats reports the small-file cache's figures (zeros when it is off).
func (f *Files) CacheStats() FileCacheStats {
	if f == nil || f.cache == nil {
		return FileCacheStats{}
	}
	return f.cache.stats()
}

// OpenRoot opens dir as the document root.
func OpenRoot(dir string) (*Files, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("document root: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("document root %s: not a directory", dir)
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("document root %s: %w", dir, err)
	}
	f := &Files{rootFd: fd}
	probe, err := f.openat2(".")
	if errors.Is(err, unix.ENOSYS) {
		if f.root, err = os.OpenRoot(dir); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("document root %s: %w", dir, err)
		}
	} else if err == nil {
		unix.Close(probe)
	}
	return f, nil
}

// Close releases the root.
func (f *Files) Close() {
	unix.Close(f.rootFd)
	if f.root != nil {
		f.root.Close()
	}
}

func (f *Files) openat2(rel string) (int, error) {
	return unix.Openat2(f.rootFd, rel, &unix.OpenHow{
		// O_NONBLOCK: opening a FIFO someone left in the root must not hang
		// a worker; fstat then shows it is no regular file (404).
		Flags:   unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOCTTY | unix.O_NONBLOCK,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	})
}

// openRel opens a path relative to the root; the caller owns the descriptor.
func (f *Files) openRel(rel string) (int, error) {
	if f.root == nil {
		for {
			fd, err := f.openat2(rel)
			if err != unix.EINTR && err != unix.EAGAIN {
				return fd, err
			}
		}
	}
	file, err := f.root.Open(rel)
	if err != nil {
		return -1, err
	}
	defer file.Close()
	// Duplicate so the descriptor has one owner that is not an *os.File,
	// whose finalizer would otherwise close it a second time.
	return unix.FcntlInt(file.Fd(), unix.F_DUPFD_CLOEXEC, 0)
}

// OpenedFile is a regular file opened for sending. The caller owns Fd.
// A small file may come as its bytes instead (Data, from the cache; Fd is
// then -1), which the caller must not modify.
type OpenedFile struct {
	Fd   int
	Data []byte
	fileVersion
	ContentType string
	Rel         string // its path beneath the root, index.html included
}

// fileVersion is what a stat tells of a file: which file it is and which
// version of it. A change to its content that a stat can see changes it.
type fileVersion struct {
	Dev, Ino uint64
	Size     int64
	MtimeNs  int64 // modification time, nanoseconds since the epoch
	CtimeNs  int64 // change time, which any write or rename moves
}

func versionOf(st *unix.Stat_t) fileVersion {
	return fileVersion{Dev: st.Dev, Ino: st.Ino, Size: st.Size, MtimeNs: st.Mtim.Nano(), CtimeNs: st.Ctim.Nano()}
}

// settleTime is how long ago a file's last change must be for a copy of
// it to be kept (tests shorten it).
var settleTime = time.Second

// settled reports whether the last change is at least settleTime old: a
// second change within the same clock tick might not move the timestamps,
// so a copy of a file changed just now could outlive its content.
func (v fileVersion) settled() bool {
	before := time.Now().Add(-settleTime).UnixNano()
	return v.MtimeNs <= before && v.CtimeNs <= before
}

// Unopened reports whether o is known by a stat only: neither its
// descriptor nor its bytes are at hand. The stat follows the path as it
// is, without the root's containment, so only a copy made earlier from a
// file opened under the root may be served on its word (the compression
// cache, keyed by the identity it shows); anything else opens the file.
func (o *OpenedFile) Unopened() bool { return o.Fd < 0 && o.Data == nil }

// Release closes the descriptor, if the file has one.
func (o *OpenedFile) Release() {
	if o.Fd >= 0 {
		unix.Close(o.Fd)
		o.Fd = -1
	}
}

// Rules say how Open treats directories and dotfiles.
type Rules struct {
	Index    bool // a directory answers with its index.html (else 404)
	Dotfiles bool // serve names that start with a dot (else 404)

	// Compressing: the caller may answer a file of a compressible type
	// from a compressed copy, which needs only its identity. Such a file
	// comes back unopened (see OpenedFile.Unopened), for one stat instead
	// of open, stat and close.
	Compressing bool
}

// Open resolves a request path (still percent-encoded) to a regular file.
// It returns the HTTP status to send instead when there is no such file;
// 301 means "a directory asked for without its trailing slash", and the
// second result is then the path to redirect to.
func (f *Files) Open(rawPath []byte, rules Rules) (OpenedFile, int, string) {
	p, err := url.PathUnescape(string(rawPath))
	if err != nil || strings.IndexByte(p, 0) >= 0 {
		return OpenedFile{}, 400, ""
	}
	// Clean is a courtesy (/a/../b is /b); the kernel is the guard.
	rel := strings.TrimPrefix(path.Clean("/"+p), "/")
	if !rules.Dotfiles && hasDotSegment(rel) {
		return OpenedFile{}, 404, ""
	}
	if rel == "" {
		rel = "."
	}
	wantDir := strings.HasSuffix(p, "/")
	if f.cache != nil && !wantDir {
		if e := f.cache.lookup(f.rootFd, rel); e != nil {
			return OpenedFile{Fd: -1, Data: e.data, fileVersion: e.fileVersion, ContentType: e.contentType, Rel: rel}, 0, ""
		}
	}
	if rules.Compressing && !wantDir {
		var st unix.Stat_t
		if ct := contentType(rel); compress.Compressible(ct) &&
			unix.Fstatat(f.rootFd, rel, &st, 0) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
			return OpenedFile{Fd: -1, fileVersion: versionOf(&st), ContentType: ct, Rel: rel}, 0, ""
		}
		// A directory, a missing file, any other type: the full open decides.
	}
	fd, err := f.openRel(rel)
	if err != nil {
		return OpenedFile{}, openStatus(err), ""
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return OpenedFile{}, 500, ""
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		unix.Close(fd)
		switch {
		case !rules.Index:
			return OpenedFile{}, 404, ""
		case !wantDir:
			// Built from the cleaned path, never the raw one, so that
			// "//host" can not become an off-site redirect.
			loc := (&url.URL{Path: "/" + rel + "/"}).EscapedPath()
			if rel == "." {
				loc = "/"
			}
			return OpenedFile{}, 301, loc
		}
		rel = path.Join(rel, "index.html")
		if fd, err = f.openRel(rel); err != nil {
			return OpenedFile{}, openStatus(err), ""
		}
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return OpenedFile{}, 500, ""
		}
	} else if wantDir {
		unix.Close(fd)
		return OpenedFile{}, 404, "" // "/file.txt/" names a directory that is not there
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return OpenedFile{}, 404, ""
	}
	o := OpenedFile{Fd: fd, fileVersion: versionOf(&st), ContentType: contentType(rel), Rel: rel}
	if f.cache != nil && !wantDir && st.Size <= workers.SmallFile {
		data := make([]byte, st.Size)
		if workers.ReadAt(fd, data, 0) == nil {
			o.Release()
			o.Data = data
			f.cache.keep(rel, data, &st, o.ContentType)
		}
	}
	return o, 0, ""
}

// Reopen opens an unopened file, which then becomes the file the path
// names now (it may have changed since its stat); a status other than 0
// says why there is none.
func (f *Files) Reopen(o *OpenedFile) int {
	fd, v, status := f.openRegular(o.Rel)
	if status == 0 {
		o.Fd, o.fileVersion = fd, v
	}
	return status
}

// Sidecar opens the precompressed copy of f in a coding, the file beside
// it whose name adds the coding's suffix (app.js.gz), if there is one and
// it is not older than f: a copy left behind by an edit is ignored.
func (f *Files) Sidecar(of *OpenedFile, coding string) (OpenedFile, bool) {
	rel := of.Rel + compress.SidecarSuffix(coding)
	fd, v, status := f.openRegular(rel)
	if status != 0 {
		return OpenedFile{}, false
	}
	if v.MtimeNs < of.MtimeNs {
		unix.Close(fd)
		return OpenedFile{}, false
	}
	return OpenedFile{Fd: fd, fileVersion: v, ContentType: of.ContentType, Rel: rel}, true
}

// openRegular opens rel beneath the root; a status other than 0 says why
// there is no regular file there (a directory or a device is 404).
func (f *Files) openRegular(rel string) (int, fileVersion, int) {
	fd, err := f.openRel(rel)
	if err != nil {
		return -1, fileVersion{}, openStatus(err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return -1, fileVersion{}, 404
	}
	return fd, versionOf(&st), 0
}

// hasDotSegment reports whether any segment of a cleaned relative path
// starts with a dot (.git, .env, .htpasswd).
func hasDotSegment(rel string) bool {
	for seg := range strings.SplitSeq(rel, "/") {
		if strings.HasPrefix(seg, ".") {
			return true
		}
	}
	return false
}

// openStatus maps an open error to a status. An attempt to leave the root
// (EXDEV from RESOLVE_BENEATH) looks like any missing file: 404.
func openStatus(err error) int {
	switch {
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		return 403
	case errors.Is(err, unix.EMFILE), errors.Is(err, unix.ENFILE):
		return 503
	}
	return 404
}

func contentType(name string) string {
	t := mime.TypeByExtension(path.Ext(name))
	switch {
	case t == "":
		return "application/octet-stream"
	case strings.HasPrefix(t, "text/") && !strings.Contains(t, "charset"):
		return t + "; charset=utf-8"
	}
	return t
}
