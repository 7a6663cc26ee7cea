package handlers

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"http_server/internal/respcheck"
	"http_server/protocol"
)

// What a request path resolves to, through the parser and the router as a
// request on the wire would go: content types, every way out of the root,
// dotfiles and directories.

var sameMediaType = respcheck.SameMediaType

// TestContentType: the type comes from the extension, with charset=utf-8
// for text; unknown extensions and names without one are
// application/octet-stream.
func TestContentType(t *testing.T) {
	for name, want := range map[string]string{
		"hello.txt":       "text/plain; charset=utf-8",
		"page.html":       "text/html; charset=utf-8",
		"style.css":       "text/css; charset=utf-8",
		"app.js":          "text/javascript; charset=utf-8",
		"doc.xml":         "text/xml; charset=utf-8",
		"table.csv":       "text/csv; charset=utf-8",
		"data.json":       "application/json",
		"img.svg":         "image/svg+xml",
		"pic.png":         "image/png",
		"blob.e2eunknown": "application/octet-stream",
		"noext":           "application/octet-stream",
		"r.bin":           "application/octet-stream",
		"empty.bin":       "application/octet-stream",
		"sub/page.txt":    "text/plain; charset=utf-8",
	} {
		t.Run(name, func(t *testing.T) {
			if got := contentType(name); !sameMediaType(got, want) {
				t.Errorf("contentType(%q) = %q, want %q", name, got, want)
			}
		})
	}
}

// addEscapes adds relative symlinks out of the root, next to the absolute
// ones of newSite (link-out -> BASE/secret.txt, linkdir-out -> BASE).
func addEscapes(t testing.TB, s *site) {
	t.Helper()
	for link, target := range map[string]string{
		"link-rel":           "../secret.txt",
		"linkdir-rel":        "..",
		"sub/link-rel2":      "../../secret.txt",
		"sub/linkdir-up":     "../..",
		"link-chain":         "link-rel",
		"link-proc":          "/proc/self/root" + filepath.Join(s.Base, "secret.txt"),
		"sub/link-to-secret": filepath.Join(s.Base, "secret.txt"),
	} {
		must(t, os.Symlink(target, filepath.Join(s.Root, filepath.FromSlash(link))))
	}
}

// leaks reports whether a response carries the secret, or /etc/passwd.
func (s *site) leaks(r reply) bool {
	hexPart := s.Secret[len("E2E-TOP-SECRET-"):]
	all := append([]byte(r.Head), r.Body...)
	return bytes.Contains(all, s.Secret) || bytes.Contains(all, hexPart) || bytes.Contains(all, []byte("root:x:0:0"))
}

// TestPathTraversal: no request target, however encoded, and no symlink
// brings a byte from outside the root into a response; each attempt gets
// 400, 403 or 404, with and without a Range. Both with dotfiles denied
// (where ".." is also a dot segment) and allowed (where only the kernel's
// containment stands in the way).
func TestPathTraversal(t *testing.T) {
	s := newSite(t)
	addEscapes(t, s)
	targets := []string{
		"/../secret.txt",
		"/../../secret.txt",
		"/%2e%2e/secret.txt",
		"/%2E%2E/secret.txt",
		"/.%2e/secret.txt",
		"/%2e./secret.txt",
		"/%252e%252e/secret.txt",
		"/%252e%252e%252fsecret.txt",
		"/..%2fsecret.txt",
		"/..%2Fsecret.txt",
		"/%2e%2e%2fsecret.txt",
		"/..%5csecret.txt",
		"/..%5Csecret.txt",
		"/..\\secret.txt",
		"/sub/..%2f..%2fsecret.txt",
		"/sub/../../secret.txt",
		"/sub/%2e%2e/%2e%2e/secret.txt",
		"//../secret.txt",
		"/./../secret.txt",
		"/%c0%ae%c0%ae/secret.txt",
		"/%00",
		"/a%00b",
		"/../secret.txt%00.html",
		"/hello.txt%00",
		"/link-out",
		"/link-rel",
		"/link-chain",
		"/link-proc",
		"/sub/link-rel2",
		"/sub/link-to-secret",
		"/linkdir-out/secret.txt",
		"/linkdir-rel/secret.txt",
		"/sub/linkdir-up/secret.txt",
		"/linkdir-out/root/../secret.txt",
		"/linkdir-out/",
		"/linkdir-rel/",
		"http://e2e/../secret.txt",
		"http://e2e/%2e%2e/secret.txt",
		"http://e2e/..%2fsecret.txt",
		"http://e2e/link-out",
		"../secret.txt",
		"secret.txt",
	}
	for _, mode := range []struct {
		name     string
		dotfiles bool
	}{{"dotfiles deny", false}, {"dotfiles allow", true}} {
		t.Run(mode.name, func(t *testing.T) {
			rt := siteRouter(t, s.Root, protocol.Modern, mode.dotfiles)
			for _, target := range targets {
				for _, extra := range [][]string{nil, {"Range", "bytes=0-"}} {
					r := respond(t, rt, get("GET", target, extra...))
					if r.Status != 400 && r.Status != 403 && r.Status != 404 {
						t.Errorf("GET %s %q: status %d, want 400, 403 or 404\n%q", target, extra, r.Status, r.Head)
					}
					if r.Item.HasFile || s.leaks(r) {
						t.Errorf("GET %s %q: sent a file (%v) or THE SECRET OUTSIDE THE ROOT:\n%q", target, extra, r.Item.HasFile, r.Body)
					}
				}
			}
			if r := respond(t, rt, get("GET", "/hello.txt")); r.Status != 200 || !bytes.Equal(r.Body, s.Files["hello.txt"]) {
				t.Errorf("GET /hello.txt after the traversal table: %d %q", r.Status, r.Body)
			}
		})
	}
}

// TestPathTraversalDefault: with the default settings the plain ways out
// of the root are 404 (or 403), never another error, and the encoded ones
// an error status; none leaks a file from outside.
func TestPathTraversalDefault(t *testing.T) {
	s := newSite(t)
	rt := siteRouter(t, s.Root, protocol.Modern, false)
	strict := []string{"/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/a/../../x",
		"/../secret.txt", "/%2e%2e/secret.txt", "/sub/../../secret.txt"}
	loose := []string{"/..%2fsecret.txt", "/%2e%2e%2fsecret.txt", "/sub/%2e%2e/%2e%2e/secret.txt",
		"/./../secret.txt", "//../secret.txt", "/..\\secret.txt", "/%2E%2E/secret.txt",
		"/link-out", "/linkdir-out/secret.txt", "/linkdir-out/root/hello.txt/../../secret.txt"}
	for i, p := range append(strict, loose...) {
		r := respond(t, rt, "GET "+p+" HTTP/1.1\r\nHost: e2e\r\nConnection: close\r\n\r\n")
		if i < len(strict) {
			if r.Status != 404 && r.Status != 403 {
				t.Errorf("GET %s: %d, want 404 or 403", p, r.Status)
			}
		} else if r.Status < 400 {
			t.Errorf("GET %s: %d, want an error status", p, r.Status)
		}
		if r.Item.HasFile || s.leaks(r) {
			t.Errorf("GET %s leaked a file from outside the root: %q", p, r.Body)
		}
	}
}

// TestPathTraversalClassic: in classic mode the ways out of the root get
// exactly the C server's 404 (or 400) bytes, never the secret.
func TestPathTraversalClassic(t *testing.T) {
	s := newSite(t)
	rt := siteRouter(t, s.Root, protocol.Classic, false)
	const c400, c404 = "HTTP/1.1 400 Bad Request\r\n\r\n", "HTTP/1.1 404 Not Found\r\n\r\n"
	for _, p := range []string{"/../secret.txt", "/%2e%2e/secret.txt", "/a/../../secret.txt",
		"/sub/../../secret.txt", "/..%2fsecret.txt", "/link-out", "/linkdir-out/secret.txt",
		"/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/a/../../x"} {
		r := respond(t, rt, "GET "+p+" HTTP/1.1\r\n\r\n")
		got := r.Head + string(r.Body)
		if got != c404 && got != c400 || !r.Item.Close {
			t.Errorf("GET %s: %q (close %v), want exactly the 404 (or 400) bytes and a close", p, got, r.Item.Close)
		}
		if r.Item.HasFile || s.leaks(r) {
			t.Errorf("GET %s leaked a file from outside the root", p)
		}
	}
}

// TestPathDotfiles: names and directories that start with a dot are 404 by
// default, however the dot is spelled, and served when dotfiles are
// allowed, where the ways out of the root stay closed.
func TestPathDotfiles(t *testing.T) {
	s := newSite(t)
	dot := map[string]string{
		".env":              "E2E_DOT_ENV=1\n",
		".git/config":       "[core] e2e-git-config\n",
		".git/HEAD":         "ref: refs/heads/e2e\n",
		"sub/.hidden":       "e2e hidden in sub\n",
		".hiddendir/f.txt":  "e2e in a dot directory\n",
		".hiddendir/a/b.js": "e2e deep in a dot directory\n",
	}
	for name, body := range dot {
		s.Add(t, name, []byte(body))
	}
	s.Touch(t)
	targets := map[string]string{ // request target -> file
		"/.env":                     ".env",
		"/.git/config":              ".git/config",
		"/.git/HEAD":                ".git/HEAD",
		"/sub/.hidden":              "sub/.hidden",
		"/.hiddendir/f.txt":         ".hiddendir/f.txt",
		"/.hiddendir/a/b.js":        ".hiddendir/a/b.js",
		"/%2eenv":                   ".env",
		"/%2Egit/config":            ".git/config",
		"/sub/%2ehidden":            "sub/.hidden",
		"/sub/./.hidden":            "sub/.hidden",
		"/sub/../.env":              ".env",
		"/hello.txt/../.git/config": ".git/config",
	}

	t.Run("deny by default", func(t *testing.T) {
		rt := siteRouter(t, s.Root, protocol.Modern, false)
		for target, file := range targets {
			for _, m := range []string{"GET", "HEAD"} {
				r := respond(t, rt, get(m, target, "Connection", "close"))
				if r.Status != 404 {
					t.Errorf("%s %s: status %d, want 404\n%q", m, target, r.Status, r.Head)
				}
				if r.Item.HasFile || bytes.Contains(append([]byte(r.Head), r.Body...), []byte(dot[file])) {
					t.Errorf("%s %s: the response carries %s", m, target, file)
				}
			}
		}
		for _, target := range []string{"/.git", "/.git/", "/.hiddendir", "/.hiddendir/"} {
			if r := respond(t, rt, get("GET", target)); r.Status != 404 {
				t.Errorf("GET %s: status %d, want 404 (no redirect, no hint)\n%q", target, r.Status, r.Head)
			}
		}
		if r := respond(t, rt, get("GET", "/hello.txt")); r.Status != 200 {
			t.Errorf("GET /hello.txt: %d", r.Status)
		}
	})

	t.Run("allow", func(t *testing.T) {
		rt := siteRouter(t, s.Root, protocol.Modern, true)
		for target, file := range targets {
			if target == "/hello.txt/../.git/config" {
				continue // whether a file may stand for a directory before ".." is not specified
			}
			if r := respond(t, rt, get("GET", target)); r.Status != 200 || string(r.Body) != dot[file] {
				t.Errorf("GET %s with dotfiles allowed: %d %q, want 200 %q", target, r.Status, r.Body, dot[file])
			}
		}
		// Still sealed.
		for _, target := range []string{"/../secret.txt", "/.%2e/secret.txt", "/%2e%2e/secret.txt", "/link-out"} {
			r := respond(t, rt, get("GET", target, "Connection", "close"))
			if r.Status != 400 && r.Status != 403 && r.Status != 404 {
				t.Errorf("GET %s with dotfiles allowed: status %d", target, r.Status)
			}
			if r.Item.HasFile || s.leaks(r) {
				t.Errorf("GET %s with dotfiles allowed leaked the secret", target)
			}
		}
	})
}

// TestPathDirectories: /dir redirects to /dir/ (keeping the query), a name
// that needs escaping stays a valid URI, no redirect leaves the site,
// /dir/ serves its index.html, and a directory without one is 404 and
// never listed.
func TestPathDirectories(t *testing.T) {
	s := newSite(t)
	s.Add(t, "sub/deeper/index.html", []byte("<p>deeper</p>\n"))
	s.Add(t, "nolist/e2e-alpha.txt", []byte("alpha\n"))
	s.Add(t, "nolist/e2e-beta.txt", []byte("beta\n"))
	s.Add(t, "a b/index.html", []byte("<p>a b</p>\n"))
	s.Add(t, "evil.example/index.html", []byte("<p>evil</p>\n"))
	s.Touch(t)
	rt := siteRouter(t, s.Root, protocol.Modern, false)

	for _, tc := range []struct{ method, target, loc string }{
		{"GET", "/sub", "/sub/"},
		{"HEAD", "/sub", "/sub/"},
		{"GET", "/sub?x=1", "/sub/?x=1"},
		{"GET", "/sub?x=1&y=%20z", "/sub/?x=1&y=%20z"},
		{"GET", "/sub/deeper", "/sub/deeper/"},
		{"GET", "/nolist", "/nolist/"},
	} {
		r := respond(t, rt, get(tc.method, tc.target))
		if r.Status != 301 || r.Header.Get("Location") != tc.loc {
			t.Errorf("%s %s: want 301 with Location %s, got\n%q", tc.method, tc.target, tc.loc, r.Head)
		}
	}

	// A name that needs escaping stays a valid URI, and leads to the index.
	r := respond(t, rt, get("GET", "/a%20b"))
	loc := r.Header.Get("Location")
	if r.Status != 301 || loc == "" || strings.ContainsAny(loc, " \t\x00") || !strings.HasSuffix(loc, "/") {
		t.Errorf("GET /a%%20b: want 301 to an escaped path with a slash, got\n%q", r.Head)
	} else if r := respond(t, rt, get("GET", loc)); r.Status != 200 || !bytes.Equal(r.Body, s.Files["a b/index.html"]) {
		t.Errorf("GET %s (from the redirect): %d %q", loc, r.Status, r.Body)
	}
	// No redirect can leave the site: //evil.example must not become a
	// scheme-relative Location.
	for _, target := range []string{"//evil.example", "///evil.example", "/./evil.example"} {
		r := respond(t, rt, get("GET", target))
		loc := r.Header.Get("Location")
		if r.Status == 301 && (strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, "/\\") || strings.Contains(loc, "://")) {
			t.Errorf("GET %s: redirect off the site: Location %q", target, loc)
		}
	}

	for _, tc := range []struct{ target, file string }{
		{"/sub/", "sub/index.html"},
		{"/sub/?q=1", "sub/index.html"},
		{"/sub/deeper/", "sub/deeper/index.html"},
		{"/sub/index.html", "sub/index.html"},
	} {
		r := respond(t, rt, get("GET", tc.target))
		if r.Status != 200 || !bytes.Equal(r.Body, s.Files[tc.file]) {
			t.Errorf("GET %s: %d %q, want 200 with %s", tc.target, r.Status, r.Body, tc.file)
			continue
		}
		checkFileFields(t, "GET "+tc.target, r, "text/html; charset=utf-8", len(s.Files[tc.file]), s.LastModified(t, tc.file))
	}

	// Directories without index.html: 404, and no listing.
	for _, target := range []string{"/nolist/", "/emptydir/", "/"} {
		r := respond(t, rt, get("GET", target))
		if r.Status != 404 {
			t.Errorf("GET %s (no index.html): status %d, want 404", target, r.Status)
		}
		for _, name := range []string{"e2e-alpha.txt", "e2e-beta.txt", "hello.txt", "nolist"} {
			if bytes.Contains(r.Body, []byte(name)) {
				t.Errorf("GET %s: the body lists %s: %q", target, name, r.Body)
			}
		}
	}
}
