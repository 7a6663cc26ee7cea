package handlers

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// fixture makes root/ with files and, beside it, a secret that must stay out of reach.
func fixture(t testing.TB) (root, secret string) {
	dir := t.TempDir()
	root = filepath.Join(dir, "root")
	secret = filepath.Join(dir, "secret.txt")
	must(t, os.MkdirAll(filepath.Join(root, "sub", "withindex"), 0o755))
	must(t, os.WriteFile(secret, []byte("TOP SECRET"), 0o644))
	must(t, os.WriteFile(filepath.Join(root, "a.txt"), []byte("hello"), 0o644))
	must(t, os.WriteFile(filepath.Join(root, "sub", "b.html"), []byte("<p>b</p>"), 0o644))
	must(t, os.WriteFile(filepath.Join(root, "sub", "withindex", "index.html"), []byte("index"), 0o644))
	must(t, os.WriteFile(filepath.Join(root, "sp ace.bin"), []byte{0, 1, 2}, 0o644))
	must(t, os.Symlink(secret, filepath.Join(root, "escape")))
	must(t, os.Symlink("../secret.txt", filepath.Join(root, "relescape")))
	must(t, os.Symlink("a.txt", filepath.Join(root, "inside")))
	must(t, os.MkdirAll(filepath.Join(root, ".git"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, ".git", "config"), []byte("[core]"), 0o644))
	must(t, os.WriteFile(filepath.Join(root, ".env"), []byte("KEY=1"), 0o644))
	must(t, unix.Mkfifo(filepath.Join(root, "fifo"), 0o644))
	return root, secret
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// target is the file a descriptor refers to.
func target(fd int) string {
	s, _ := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
	return s
}

func TestFilesRedirectAndDotfiles(t *testing.T) {
	root, _ := fixture(t)
	f, err := OpenRoot(root)
	must(t, err)
	defer f.Close()
	for path, want := range map[string]string{"/sub": "/sub/", "/sub/withindex": "/sub/withindex/", "//sub": "/sub/"} {
		if _, status, loc := f.Open([]byte(path), Rules{Index: true}); status != 301 || loc != want {
			t.Errorf("%s: %d %q, want 301 %q", path, status, loc, want)
		}
	}
	got, status, _ := f.Open([]byte("/.env"), Rules{Index: true, Dotfiles: true})
	if status != 0 {
		t.Fatalf("/.env with dotfiles allowed: %d", status)
	}
	unix.Close(got.Fd)
}

func TestFilesOpen(t *testing.T) {
	root, _ := fixture(t)
	f, err := OpenRoot(root)
	must(t, err)
	defer f.Close()
	cases := []struct {
		path   string
		index  bool
		status int
		want   string // file name under root when found
		ctype  string
	}{
		{"/a.txt", true, 0, "a.txt", "text/plain; charset=utf-8"},
		{"/sub/b.html", true, 0, "sub/b.html", "text/html; charset=utf-8"},
		{"/sp%20ace.bin", true, 0, "sp ace.bin", "application/octet-stream"},
		{"/sub/withindex/", true, 0, "sub/withindex/index.html", "text/html; charset=utf-8"},
		{"/sub/withindex", true, 301, "", ""},
		{"/a.txt/", true, 404, "", ""},
		{"/.env", true, 404, "", ""},
		{"/.git/config", true, 404, "", ""},
		{"/sub/withindex/", false, 404, "", ""},
		{"/sub/", true, 404, "", ""},
		{"/", true, 404, "", ""},
		{"/missing", true, 404, "", ""},
		{"/fifo", true, 404, "", ""}, // must not block the worker on open
		{"/inside", true, 0, "a.txt", "application/octet-stream"},
		{"/escape", true, 404, "", ""},
		{"/relescape", true, 404, "", ""},
		{"/../secret.txt", true, 404, "", ""},
		{"/%2e%2e/secret.txt", true, 404, "", ""},
		{"/sub/..%2f..%2fsecret.txt", true, 404, "", ""},
		{"/sub/../../secret.txt", true, 404, "", ""},
		{"/a.txt%00.html", true, 400, "", ""},
		{"/bad%zz", true, 400, "", ""},
		{"/sub/..%5c..%5csecret.txt", true, 404, "", ""},
	}
	for _, c := range cases {
		got, status, _ := f.Open([]byte(c.path), Rules{Index: c.index})
		if status != c.status {
			t.Errorf("%s: status %d, want %d", c.path, status, c.status)
		}
		if status != 0 {
			continue
		}
		if tg := target(got.Fd); tg != filepath.Join(root, c.want) {
			t.Errorf("%s: opened %s, want %s", c.path, tg, filepath.Join(root, c.want))
		}
		if got.ContentType != c.ctype {
			t.Errorf("%s: content type %q, want %q", c.path, got.ContentType, c.ctype)
		}
		unix.Close(got.Fd)
	}
}

// Every descriptor Open returns points beneath the root, whatever the path.
func FuzzFilesOpen(f *testing.F) {
	for _, s := range []string{"/a.txt", "/../secret.txt", "/%2e%2e/secret.txt", "/escape",
		"/sub/..%2f..%2fsecret.txt", "/relescape", "//a.txt", "/sub/withindex/"} {
		f.Add(s)
	}
	root, _ := fixture(f)
	files, err := OpenRoot(root)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(files.Close)
	f.Fuzz(func(t *testing.T, p string) {
		got, status, _ := files.Open([]byte(p), Rules{Index: true, Dotfiles: true})
		if status != 0 {
			return
		}
		defer unix.Close(got.Fd)
		if tg := target(got.Fd); !strings.HasPrefix(tg, root+"/") {
			t.Fatalf("%q opened %s, outside %s", p, tg, root)
		}
	})
}

func closeFd(fd int) { unix.Close(fd) }
